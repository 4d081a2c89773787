import Foundation

/// The per-channel affine map of an inference BatchNormalization, read from its constant parameters.
///
/// In inference form BatchNormalization computes, for channel c (axis 1 of X):
///
///     y = (x - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + B[c]
///       = x * m[c] + s[c]
///     m[c] = scale[c] / sqrt(var[c] + epsilon)
///     s[c] = B[c] - mean[c] * m[c]
///
/// m and s are computed in Double from the stored parameters; the rules that use them compute their
/// folded constants in Double too and round to Float once, when they write an initializer.
///
/// Before (any rule that uses it):
///
///     y = BatchNormalization <epsilon: float = 1e-5> (x, scale, B, mean, var)
///
/// After: `y = x * m + s`, folded into the producer of x or written as Mul and Add.
///
/// Skip cases, shared by every batch-norm rule (each rule cites them by these numbers):
/// 1. training form: training_mode = 1 (opset 14 and later) or is_test = 0 (opsets 1 to 6), where
///    the statistics come from the batch.
/// 2. spatial = 0 (opsets 1 to 8): statistics per element rather than per channel.
/// 3. an output other than Y (running or saved statistics) is used or is a graph output.
/// 4. scale, B, mean or var is missing or not a constant initializer of a floating-point type.
/// 5. scale, B, mean and var are not all of shape [C] with the same C.
/// 6. var + epsilon is not positive, or m or s is not finite, at some channel.
struct BatchNormAffine {
  /// The outcome of reading a node.
  enum Reading {
    case affine(BatchNormAffine)
    case refused(String)
  }

  /// The BatchNormalization node.
  let node: Node
  /// m[c] = scale[c] / sqrt(var[c] + epsilon).
  let multiplier: [Double]
  /// s[c] = B[c] - mean[c] * m[c].
  let shift: [Double]
  /// scale, B, mean and var, to be dropped once the node is gone and nothing else uses them.
  let parameters: [Value]

  /// C, the number of channels.
  var channels: Int { multiplier.count }

  /// True for a BatchNormalization of the default domain (the pattern every batch-norm rule starts from).
  static func isBatchNorm(_ node: Node) -> Bool {
    node.opType == "BatchNormalization" && node.isStandard
  }

  /// `OpType 'name'` (or the node's label when it has no name), for refusal reasons.
  static func describe(_ node: Node) -> String {
    node.name.isEmpty ? node.label : "\(node.opType) '\(node.name)'"
  }

  /// Reads `node` (a BatchNormalization) in inference form with constant parameters, or says
  /// which skip case applies.
  static func read(_ node: Node, in graph: Graph, model: Model) -> Reading {
    let opset = model.opsetVersion("") ?? 1
    let label = describe(node)
    if opset >= 14 && node.int("training_mode", default: 0) != 0 {
      return .refused("skip 1: \(label) is in training mode (training_mode = 1)")
    }
    if opset < 7 && node.int("is_test", default: 0) == 0 {
      return .refused("skip 1: \(label) is in training mode (is_test = 0 in opset \(opset))")
    }
    if opset < 9 && node.int("spatial", default: 1) == 0 {
      return .refused("skip 2: \(label) has spatial = 0 (statistics per element, not per channel)")
    }
    for output in node.outputs.dropFirst().compactMap({ $0 })
    where !output.uses.isEmpty || graph.outputs.contains(where: { $0 === output }) {
      return .refused("skip 3: output '\(output.name)' of \(label) is used; only Y may be")
    }
    let names = ["scale", "B", "mean", "var"]
    var values: [Value] = []
    var arrays: [[Double]] = []
    for (offset, name) in names.enumerated() {
      guard let value = node.input(offset + 1), let host = value.constantHostTensor(in: model),
        host.dataType.isFloatingPoint
      else {
        return .refused("skip 4: \(name) of \(label) is not a constant initializer")
      }
      guard host.rank == 1, host.count == (arrays.first?.count ?? host.count), host.count > 0 else {
        return .refused(
          "skip 5: \(name) '\(value.name)' of \(label) has shape \(host.shape); expected [C] like the other parameters")
      }
      values.append(value)
      arrays.append(host.doubles())
    }
    let epsilon = Double(node.float("epsilon", default: 1e-5))
    var multiplier: [Double] = []
    var shift: [Double] = []
    for c in 0..<arrays[0].count {
      let denominator = arrays[3][c] + epsilon
      let m = arrays[0][c] / denominator.squareRoot()
      let s = arrays[1][c] - arrays[2][c] * m
      guard denominator > 0, m.isFinite, s.isFinite, Float(m).isFinite, Float(s).isFinite else {
        return .refused("skip 6: var + epsilon of \(label) is not positive or the result is not finite at channel \(c)")
      }
      multiplier.append(m)
      shift.append(s)
    }
    return .affine(BatchNormAffine(node: node, multiplier: multiplier, shift: shift, parameters: values))
  }

  /// A float32 initializer tensor holding `values` (rounded from Double) with `shape`.
  static func floatTensor(_ values: [Double], shape: [Int]) -> Tensor {
    HostTensor.floats(values.map { Float($0) }, shape: shape).irTensor(name: nil)
  }

  /// The elements of a constant float32 initializer, or nil when `value` is not one.
  static func float32Constant(_ value: Value?, model: Model) -> (shape: [Int], values: [Float])? {
    guard let host = value?.constantHostTensor(in: model), host.dataType == .float else { return nil }
    return (host.shape, host.values(Float.self))
  }

  /// Points every use of the node's Y at `result` (which takes Y's name when Y is a graph output,
  /// and Y's declared type when it has none), then removes the node and the parameters nothing
  /// else uses. Returns Y's name.
  @discardableResult
  func replace(with result: Value, rewriter: Rewriter, alsoRemoving extra: [Value] = []) throws -> String? {
    guard let y = node.output else { return nil }
    let name = y.name
    if result.type == nil { result.type = y.type }
    try rewriter.replaceAllUses(of: y, with: result)
    try rewriter.removeIfUnused([node], initializers: parameters + extra)
    return name
  }

  /// Gives input 1 of `node` (Conv, ConvTranspose, Gemm) the payload `weight` and input 2 the
  /// payload `bias` (appending it when the node had none). An initializer that only this node
  /// uses keeps its name and takes the new payload; a shared one stays as it is for its other
  /// users and the node gets a new initializer, named after the old one with `_folded`.
  static func setWeightAndBias(of node: Node, weight: Tensor, bias: Tensor, rewriter: Rewriter) throws {
    let nodeBase = node.name.isEmpty ? node.opType.lowercased() : node.name
    try setConstant(of: node, at: 1, to: weight, base: nodeBase + "_weight", rewriter: rewriter)
    try setConstant(of: node, at: 2, to: bias, base: nodeBase + "_bias", rewriter: rewriter)
  }

  private static func setConstant(of node: Node, at index: Int, to tensor: Tensor, base: String, rewriter: Rewriter)
    throws
  {
    let graph = rewriter.graph
    // An initializer listed as an input is a constant only before IR 4 (Value.constantTensor).
    let listedIsConstant = graph === rewriter.model.graph && (rewriter.model.irVersion ?? 3) < 4
    if let old = node.input(index), old.uses.count == 1, graph.isInitializer(old),
      listedIsConstant || !graph.inputs.contains(where: { $0 === old }), !graph.outputs.contains(where: { $0 === old })
    {
      try graph.setInitializer(old, tensor)
      return
    }
    let value = try rewriter.addConstant((node.input(index)?.name).map { $0 + "_folded" } ?? base, tensor)
    if node.inputs.count > index {
      try node.replaceInput(at: index, with: value)
    } else {
      node.appendInput(value)
    }
  }

  /// The rank of `value`'s declared tensor type, when it has one with a shape.
  static func declaredRank(_ value: Value?) -> Int? {
    value?.type?.tensorType?.shape?.dims.count
  }
}
