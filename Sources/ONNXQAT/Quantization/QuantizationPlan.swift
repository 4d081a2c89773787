import Foundation

/// Which tensors of a graph `insert` quantizes and how, decided before anything is calibrated or
/// changed. The plan follows `QuantizableOp.table`:
///
/// 1. A quantizable node's activation inputs and (per its output rule) outputs are quantized per
///    tensor; its constant weight per channel along the op's output-channel axis; its constant
///    bias as int32 at `s_x * s_w`.
/// 2. A Relu or Clip (constant bounds) that is the sole consumer of a quantized op's output
///    absorbs it: the clamp's output gets the Q/DQ, the op's raw output none.
/// 3. Data-movement ops and MaxPool share their input's parameters on their outputs.
/// 4. With `--preset tensorrt`, only the inputs of Conv, ConvTranspose, Gemm, MatMul and of
///    residual Adds (both inputs computed) are quantized.
///
/// Nodes left float, with the reason, are listed for the report: 1. excluded by name or op type;
/// 2. not a quantizable op; 3. inside a subgraph (If/Loop/Scan bodies stay float); 4. no float
/// input to quantize; 5. a weight shared with another op on a different channel axis.
public struct QuantizationPlan {
  /// How one tensor is quantized.
  public enum Role: Equatable {
    /// Calibrated parameters of its own.
    case activation
    /// The parameters of another tensor (the root of a chain of data-movement ops).
    case shared(with: String)
    /// A fixed range, not calibrated.
    case fixed(Float, Float)
    /// A constant weight, per channel along `axis` (nil: per tensor), or blocked along `blockAxis`.
    case weight(axis: Int?, blockAxis: Int?)
    /// A constant operand of Add or Mul, per tensor with the activation type.
    case constant
  }

  /// A bias to quantize as int32 at the product of its node's input and weight scales.
  public struct Bias {
    public var node: Node
    public var bias: Value
    public var input: String
    public var weight: String
  }

  /// A node left float and why.
  public struct FloatNode {
    public var node: Node
    public var reason: String
  }

  /// Tensors in the order they were planned, with their roles.
  public private(set) var tensors: [(name: String, role: Role)] = []
  public private(set) var biases: [Bias] = []
  public private(set) var floatNodes: [FloatNode] = []
  /// Clamps (Relu/Clip) whose input's quantization they absorbed, with the producer's label.
  public private(set) var absorbed: [(clamp: Node, producer: Node)] = []
  public private(set) var quantizedNodes: [Node] = []
  /// Excluded names or op types that matched no node (warned about).
  public private(set) var unmatchedExclusions: [String] = []
  private var roleIndex: [String: Int] = [:]
  /// Identities of the clamps in `absorbed`.
  private var absorbedClamps = Set<ObjectIdentifier>()

  /// Plans the main graph of `model`. `types` gives the element type of every value, as seen on
  /// a probe run (values missing there are not quantized).
  public init(model: Model, options: QuantizationOptions, types: [String: DataType]) {
    let graph = model.graph
    var matchedExclusions = Set<String>()
    let ioNames = Set(graph.inputs.map(\.name) + graph.outputs.map(\.name))
    func isFloat(_ value: Value?) -> Bool {
      guard let value else { return false }
      if let type = value.constantElementType(in: model) { return type == .float }
      return types[value.name] == .float
    }
    func keepsFloat(_ value: Value) -> Bool {
      if options.keepIOFloat && ioNames.contains(value.name) { return true }
      return options.override(for: value)?.keepFloat == true
    }

    for node in graph.nodes {
      if let excluded = [node.name, node.opType].first(where: { !$0.isEmpty && options.exclude.contains($0) }) {
        matchedExclusions.insert(excluded)
        floatNodes.append(FloatNode(node: node, reason: "skip 1: excluded by --exclude \(excluded)"))
        continue
      }
      if !node.subgraphs.isEmpty {
        floatNodes.append(FloatNode(node: node, reason: "skip 3: its subgraphs are left float"))
        continue
      }
      guard node.isStandard, let op = QuantizableOp.table[node.opType] else {
        if !absorbedClamps.contains(ObjectIdentifier(node)) {
          floatNodes.append(FloatNode(node: node, reason: "skip 2: \(node.opType) is not a quantizable op"))
        }
        continue
      }
      if let reason = plan(node, op, model: model, options: options, isFloat: isFloat, keepsFloat: keepsFloat) {
        floatNodes.append(FloatNode(node: node, reason: reason))
      } else {
        quantizedNodes.append(node)
      }
    }
    unmatchedExclusions = options.exclude.filter { !matchedExclusions.contains($0) }
  }

  /// The role of tensor `name`, if planned.
  public func role(of name: String) -> Role? { roleIndex[name].map { tensors[$0].role } }

  /// Tensors whose ranges calibration must measure.
  public var calibratedTensors: [String] {
    tensors.compactMap { $0.role == .activation ? $0.name : nil }
  }

  /// The tensor whose parameters `name` uses: itself, or the root of its sharing chain.
  public func parameterRoot(of name: String) -> String {
    var current = name
    var seen = Set<String>()
    while case .shared(let other)? = role(of: current), seen.insert(current).inserted { current = other }
    return current
  }

  private mutating func assign(_ name: String, _ role: Role) {
    if roleIndex[name] != nil { return }
    roleIndex[name] = tensors.count
    tensors.append((name, role))
  }

  /// Plans one node; returns the reason when it stays float.
  private mutating func plan(
    _ node: Node, _ op: QuantizableOp, model: Model, options: QuantizationOptions, isFloat: (Value?) -> Bool,
    keepsFloat: (Value) -> Bool
  ) -> String? {
    let graph = model.graph
    let activationIndices = node.opType == "Concat" ? Array(node.inputs.indices) : op.activationInputs
    var planned = false

    if options.preset.inputsOnly {
      let residualAdd = node.opType == "Add" && node.inputs.allSatisfy { $0.map { !$0.hasInitializer } ?? false }
      guard QuantizableOp.tensorRTComputeOps.contains(node.opType) || residualAdd else {
        return "skip 2: \(node.opType) gets no Q/DQ with --preset tensorrt"
      }
    }

    // Weight.
    var weightName: String?
    if let index = op.weightInput, let weight = node.input(index), let tensor = weight.constantTensor(in: model),
      tensor.elementType == .float
    {
      let blockAxis = options.blockSize == nil ? nil : QuantizableOp.weightReductionAxis(node)
      let axis = options.perChannel ? QuantizableOp.weightAxis(node, weightRank: tensor.dims.count) : nil
      let role = Role.weight(axis: blockAxis == nil ? axis : nil, blockAxis: blockAxis)
      if let existing = self.role(of: weight.name), existing != role {
        return "skip 5: weight '\(weight.name)' is shared with another op quantized along a different axis"
      }
      if !keepsFloat(weight) {
        assign(weight.name, role)
        weightName = weight.name
        planned = true
      }
    }

    // Activation inputs (and constant operands of Add/Mul).
    for index in activationIndices {
      guard let input = node.input(index), isFloat(input), !keepsFloat(input) else { continue }
      if input.name == weightName { continue }
      if input.isConstant(in: model) {
        guard op.constantOperands else { continue }
        assign(input.name, .constant)
      } else {
        assign(input.name, .activation)
      }
      planned = true
    }
    guard planned else { return "skip 4: no float input to quantize" }

    // Bias (not in the TensorRT form, not with blocked weights).
    if let index = op.biasInput, let weightName, let bias = node.input(index), !options.preset.inputsOnly,
      options.blockSize == nil, let input = node.input(0), role(of: input.name) != nil,
      let tensor = bias.constantTensor(in: model), tensor.elementType == .float, tensor.dims.count == 1,
      node.opType != "Gemm" || (node.float("alpha", default: 1) == 1 && node.float("beta", default: 1) == 1)
    {
      biases.append(Bias(node: node, bias: bias, input: input.name, weight: weightName))
    }

    // Outputs.
    guard !options.preset.inputsOnly else { return nil }
    for output in node.outputs.compactMap({ $0 }) where isFloat(output) && !keepsFloat(output) {
      switch op.output {
      case .none:
        break
      case .calibrated:
        assign(
          absorbingClamp(output, graph: graph, model: model, isFloat: isFloat, keepsFloat: keepsFloat), .activation)
      case .fixedRange(let low, let high):
        assign(output.name, .fixed(low, high))
      case .sharesInput:
        guard let input = node.input(0), role(of: input.name) != nil else { continue }
        assign(output.name, .shared(with: parameterRoot(of: input.name)))
      }
    }
    return nil
  }

  /// The tensor that gets the Q/DQ for `output`: the output of a Relu or Clip (constant bounds)
  /// that is its only consumer, or the output itself.
  private mutating func absorbingClamp(
    _ output: Value, graph: Graph, model: Model, isFloat: (Value?) -> Bool, keepsFloat: (Value) -> Bool
  ) -> String {
    guard let clamp = output.soleUser, clamp.isStandard, QuantizableOp.absorbedActivations.contains(clamp.opType),
      let clamped = clamp.output, isFloat(clamped), !keepsFloat(clamped)
    else { return output.name }
    if clamp.opType == "Clip" {
      let bounds = clamp.inputs.dropFirst().compactMap { $0 }
      guard bounds.allSatisfy({ $0.isConstant(in: model) }) else { return output.name }
    }
    if let producer = output.producer {
      absorbed.append((clamp, producer))
      absorbedClamps.insert(ObjectIdentifier(clamp))
    }
    return clamped.name
  }
}
