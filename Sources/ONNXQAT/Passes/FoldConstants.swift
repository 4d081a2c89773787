import Foundation

/// Replaces every node whose inputs are all constants by initializers holding its outputs,
/// computed once by the reference executor.
///
/// The maths: a node `y1, ..., ym = f(c1, ..., cn)` whose inputs `ci` are constant initializers
/// (dense initializers a caller cannot override, see `Value.constantTensor(in:)`) has constant
/// outputs; each `yj` becomes an initializer of the same name holding `f(c1, ..., cn)_j`, as our
/// executor's kernel for `f` at the model's opset computes it. `Constant` nodes become
/// initializers directly (no kernel runs). `Shape` and `Size` of a value whose declared type has
/// a fully static shape `[d1, ..., dr]` fold to `int64[k] {d_start, ..., d_end-1}` (opset 15
/// `start`/`end`, negative values counted from the back and clamped to `[0, r]`) and to the
/// scalar `d1 * ... * dr`. Nodes are visited in order, so a chain folds in one pass: a folded
/// output is a constant for the nodes after it. Subgraph nodes may use constants of enclosing
/// graphs. Function bodies are not visited: a `FunctionProto` has no initializers.
///
/// In IR version 3 every initializer must also be a graph input, so the new initializers of the
/// main graph are appended to its inputs (with their static type).
///
/// Before:
///
///     <ir_version: 8, opset_import: ["" : 13]>
///     g (float[1,2,3,3] x) => (float[1,2,3,3] y)
///       <float[4] w = {1, 2, 3, 4}, int64[4] s = {2, 1, 1, 2}> {
///       r = Reshape(w, s)
///       t = Transpose <perm = [0, 1, 3, 2]> (r)
///       y = Conv <group = 2> (x, t)
///     }
///
/// After (`r` dead, removed by EliminateDeadNodes):
///
///     g (float[1,2,3,3] x) => (float[1,2,3,3] y)
///       <float[4] w = {...}, int64[4] s = {...}, float[2,1,1,2] r = {1, 2, 3, 4},
///        float[2,1,2,1] t = {1, 2, 3, 4}> {
///       y = Conv <group = 2> (x, t)
///     }
///
/// Skip cases (refusal reasons cite their number):
/// 1. a non-deterministic op (RandomNormal, RandomUniform, RandomNormalLike, RandomUniformLike,
///    Multinomial, Bernoulli): folding would freeze one draw;
/// 2. a node holding a subgraph (If, Loop, Scan);
/// 3. a node with an output that is a graph output: the interface stays as written;
/// 4. an output larger than 256 MiB (ConstantOfShape is checked before it runs);
/// 5. an op the executor has no kernel for at the model's opset;
/// 6. a kernel that throws (the reason is its error), or an input that cannot be decoded;
/// 7. a Constant with `sparse_value` (or no value attribute at all);
/// 8. a subgraph of an IR version 3 model: its initializers would have to be subgraph inputs,
///    which are fixed by the op;
/// 9. DequantizeLinear (unless `keepsDequantizeLinear` is false): in a fake-quant (QDQ) model
///    `DequantizeLinear(w_int8, scale, zero_point)` is how a quantized weight reaches its
///    consumer, and lowering reads that pattern; folding it would leave a float weight.
/// Nodes with a non-constant input, and nodes none of whose outputs is used, are left silently.
public struct FoldConstants: ModelPass {
  public let name = "fold-constants"
  /// Largest output folded into an initializer (skip case 4).
  public let maximumOutputBytes: Int

  public static let nondeterministicOps: Set<String> = [
    "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
  ]

  /// Whether DequantizeLinear nodes stay (skip case 9).
  public let keepsDequantizeLinear: Bool

  public init(maximumOutputBytes: Int = 256 << 20, keepsDequantizeLinear: Bool = true) {
    self.maximumOutputBytes = maximumOutputBytes
    self.keepsDequantizeLinear = keepsDequantizeLinear
  }

  /// What to do with one node.
  private enum Decision {
    case leave
    case refuse(String)
    case fold([(Value, Tensor, HostTensor?)])
  }

  public func run(_ model: Model, log: RewriteLog) throws -> PassResult {
    // Kernels need only the opsets and the model-local functions, not the (possibly large)
    // initializers the interpreter would decode up front.
    let shell = Model(graph: Graph(), irVersion: model.irVersion ?? 3, opsetImports: model.opsetImports)
    shell.functions = model.functions
    let interpreter = try Interpreter(model: shell, checkingKernels: false)
    var cache: [ObjectIdentifier: HostTensor] = [:]
    var foldedNodes = 0
    var createdInitializers = 0
    for graph in [model.graph] + model.graph.allSubgraphs {
      var replaced = Set<ObjectIdentifier>()
      defer {
        if !replaced.isEmpty { graph.valueInfos.removeAll { replaced.contains(ObjectIdentifier($0)) } }
      }
      for node in graph.nodes where node.graph === graph {
        let label = Self.label(node)
        switch decide(node, in: graph, model: model, interpreter: interpreter, cache: cache) {
        case .leave:
          continue
        case .refuse(let reason):
          log.recordRefusal(rule: name, node: label, reason: reason)
        case .fold(let results):
          let created = try replace(node, with: results.map { ($0.0, $0.1) }, in: graph, model: model)
          for (value, result) in zip(created, results) {
            if let host = result.2 { cache[ObjectIdentifier(value)] = host }
            replaced.insert(ObjectIdentifier(result.0))
          }
          log.recordFiring(rule: name, node: label)
          foldedNodes += 1
          createdInitializers += created.count
        }
      }
    }
    if foldedNodes > 0 {
      log.note(
        name,
        "folded \(foldedNodes) node\(foldedNodes == 1 ? "" : "s") into \(createdInitializers) "
          + "initializer\(createdInitializers == 1 ? "" : "s")")
    }
    return PassResult(model: model, modified: foldedNodes > 0, converged: foldedNodes == 0)
  }

  // MARK: Checks

  private func decide(
    _ node: Node, in graph: Graph, model: Model, interpreter: Interpreter, cache: [ObjectIdentifier: HostTensor]
  ) -> Decision {
    let outputs = node.outputs.compactMap { $0 }
    let isGraphOutput = { (value: Value) in graph.outputs.contains { $0 === value } }
    guard outputs.contains(where: { $0.hasUses || isGraphOutput($0) }) else { return .leave }
    let staticShape = staticShapeQuery(node)
    let inputs = node.inputs.compactMap { $0 }
    guard staticShape != nil || inputs.allSatisfy({ $0.isConstant(in: model) }) else { return .leave }

    if node.isStandard && Self.nondeterministicOps.contains(node.opType) {
      return .refuse("node \(Self.label(node)) is not deterministic (skip case 1)")
    }
    if keepsDequantizeLinear && node.opType == "DequantizeLinear" {
      return .refuse(
        "node \(Self.label(node)) is kept so that lowering sees the quantized weight (QDQ format) (skip case 9)")
    }
    if !node.subgraphs.isEmpty {
      return .refuse("node \(Self.label(node)) holds a subgraph (skip case 2)")
    }
    if let output = outputs.first(where: isGraphOutput) {
      return .refuse("output '\(output.name)' of node \(Self.label(node)) is a graph output (skip case 3)")
    }
    if graph !== model.graph && (model.irVersion ?? 3) < 4 {
      return .refuse(
        "node \(Self.label(node)) is in a subgraph of an ir version \(model.irVersion ?? 3) model, whose initializers "
          + "must be subgraph inputs (skip case 8)")
    }
    if node.isStandard && node.opType == "Constant" {
      return constantDecision(node)
    }
    if let staticShape {
      return .fold([(outputs[0], staticShape.irTensor(name: outputs[0].name), staticShape)])
    }
    guard interpreter.canEvaluate(node) else {
      let domain = node.domain.isEmpty ? "ai.onnx" : node.domain
      let version = model.opsetVersion(node.domain) ?? 1
      return .refuse(
        "the executor has no kernel for \(node.opType) (\(domain), opset \(version)) at node \(Self.label(node)) "
          + "(skip case 5)")
    }
    if let reason = constantOfShapeTooLarge(node, model: model) { return .refuse(reason) }
    var hostInputs: [HostTensor?] = []
    for input in node.inputs {
      guard let input else {
        hostInputs.append(nil)
        continue
      }
      if let cached = cache[ObjectIdentifier(input)] {
        hostInputs.append(cached)
        continue
      }
      guard let tensor = input.constantTensor(in: model) else { return .leave }
      do {
        hostInputs.append(try HostTensor(tensor))
      } catch {
        return .refuse("input '\(input.name)' of node \(Self.label(node)) cannot be decoded: \(error) (skip case 6)")
      }
    }
    let results: [HostTensor?]
    do {
      results = try interpreter.evaluate(node, inputs: hostInputs)
    } catch {
      return .refuse("the \(node.opType) kernel failed at node \(Self.label(node)): \(error) (skip case 6)")
    }
    var folded: [(Value, Tensor, HostTensor?)] = []
    for (index, output) in node.outputs.enumerated() {
      guard let output else { continue }
      guard index < results.count, let result = results[index] else {
        return .refuse(
          "the \(node.opType) kernel produced no value for output '\(output.name)' of node \(Self.label(node)) "
            + "(skip case 6)")
      }
      let bytes = byteCount(result)
      if bytes > maximumOutputBytes {
        return .refuse(
          "output '\(output.name)' of node \(Self.label(node)) would hold \(bytes) bytes, more than "
            + "\(maximumOutputBytes) (skip case 4)")
      }
      folded.append((output, result.irTensor(name: output.name), result))
    }
    return .fold(folded)
  }

  /// The tensor of a Constant node's value attribute (skip case 7 when there is none usable).
  private func constantDecision(_ node: Node) -> Decision {
    guard let output = node.output else { return .leave }
    for attribute in node.attributes {
      let host: HostTensor
      switch (attribute.name, attribute.value) {
      case ("value", .tensor(let tensor)): return .fold([(output, tensor, nil)])
      case ("value_float", .float(let value)): host = HostTensor(.float, shape: [], values: [value])
      case ("value_floats", .floats(let values)): host = HostTensor(.float, shape: [values.count], values: values)
      case ("value_int", .int(let value)): host = HostTensor(.int64, shape: [], values: [value])
      case ("value_ints", .ints(let values)): host = HostTensor(.int64, shape: [values.count], values: values)
      case ("value_string", .string(let value)):
        host = HostTensor(strings: [String(decoding: value, as: UTF8.self)], shape: [])
      case ("value_strings", .strings(let values)):
        host = HostTensor(strings: values.map { String(decoding: $0, as: UTF8.self) }, shape: [values.count])
      case ("sparse_value", _):
        return .refuse("Constant \(Self.label(node)) holds a sparse_value, which is not folded (skip case 7)")
      default: continue
      }
      return .fold([(output, host.irTensor(name: output.name), host)])
    }
    return .refuse("Constant \(Self.label(node)) has no usable value attribute (skip case 7)")
  }

  /// The result of a Shape or Size node whose input has a fully static declared shape.
  private func staticShapeQuery(_ node: Node) -> HostTensor? {
    guard node.isStandard, node.opType == "Shape" || node.opType == "Size", node.outputs.count == 1,
      let input = node.input(0), !input.hasInitializer,
      let dims = input.type?.tensorType?.shape?.dims
    else { return nil }
    var sizes: [Int64] = []
    for dimension in dims {
      guard case .known(let size) = dimension.size, size >= 0 else { return nil }
      sizes.append(size)
    }
    if node.opType == "Size" {
      var product: Int64 = 1
      for size in sizes {
        let (next, overflow) = product.multipliedReportingOverflow(by: size)
        if overflow { return nil }
        product = next
      }
      return HostTensor(.int64, shape: [], values: [product])
    }
    let rank = Int64(sizes.count)
    func clamped(_ value: Int64) -> Int { Int(min(max(value < 0 ? value + rank : value, 0), rank)) }
    let start = clamped(node.int("start", default: 0))
    let end = clamped(node.int("end", default: rank))
    let slice = start < end ? Array(sizes[start..<end]) : []
    return HostTensor(.int64, shape: [slice.count], values: slice)
  }

  /// Skip case 4 for ConstantOfShape, checked from its shape input before the kernel allocates.
  private func constantOfShapeTooLarge(_ node: Node, model: Model) -> String? {
    guard node.isStandard, node.opType == "ConstantOfShape", let shapeInput = node.input(0),
      let shape = shapeInput.constantHostTensor(in: model), shape.dataType == .int64
    else { return nil }
    var stride = 4
    if case .tensor(let value)? = node.attribute("value")?.value {
      stride = value.elementType.storageStride
    }
    var total = stride
    for size in shape.values(Int64.self) {
      let (next, overflow) = total.multipliedReportingOverflow(by: Int(clamping: max(size, 0)))
      if overflow || next > maximumOutputBytes {
        return "output of node \(Self.label(node)) would hold more than \(maximumOutputBytes) bytes "
          + "(shape \(shape.values(Int64.self))) (skip case 4)"
      }
      total = next
    }
    return nil
  }

  /// The node's label; an unnamed node is named by its first output, since indices shift as
  /// folded nodes leave the graph.
  static func label(_ node: Node) -> String {
    guard node.name.isEmpty, let output = node.outputs.compactMap({ $0 }).first else { return node.label }
    return "\(node.opType) -> '\(output.name)'"
  }

  private func byteCount(_ tensor: HostTensor) -> Int {
    if tensor.dataType == .string { return tensor.strings.reduce(0) { $0 + $1.utf8.count } }
    return tensor.count * tensor.dataType.storageStride
  }

  // MARK: Rewrite

  /// Replaces `node` by initializers that keep its output names; returns the new values. Uses
  /// move to a placeholder first, so the name is free when the initializer is added (one name
  /// check per output instead of a temporary name and a rename).
  private func replace(_ node: Node, with results: [(Value, Tensor)], in graph: Graph, model: Model) throws
    -> [Value]
  {
    let listAsInputs = graph === model.graph && (model.irVersion ?? 3) < 4
    let placeholders = results.map { Value(name: $0.0.name) }
    for ((old, _), placeholder) in zip(results, placeholders) {
      try graph.replaceAllUses(of: old, with: placeholder)
    }
    try graph.remove(node)
    var created: [Value] = []
    for ((old, tensor), placeholder) in zip(results, placeholders) {
      let new = try graph.addInitializer(named: old.name, tensor)
      try graph.replaceAllUses(of: placeholder, with: new)
      // The value infos of replaced outputs go in one sweep at the end of the graph (run).
      if listAsInputs {
        new.type = .tensor(tensor.elementType, tensor.dims.map { Dimension(.known($0)) })
        graph.appendInput(new)
      }
      created.append(new)
    }
    return created
  }
}
