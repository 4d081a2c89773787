/// The element type of every value a calibration run would show, worked out from the graph alone
/// when that is certain, so that insert need not run a sample just to learn them
/// (`QDQInsertion.probeTypes`, which remains the fallback).
///
/// A run shows each graph input with the element type its declaration demands (`InputCheck`
/// refuses any other) and each node output with the type its kernel produced. For the ops of
/// `sameTypeOps` that type is the one all their inputs share:
///
///     graph input  x: float[1,4,4,4]        -> float (declared)
///     c = Conv(x, w, b)  (w, b float)       -> float
///     r = Relu(c)                           -> float
///     s = Add(x, r)                         -> float
///
/// Skip cases (any of them gives nil, and the caller runs the probe as before):
/// 1. a graph input without a declared element type, or a graph input that is also an initializer;
/// 2. a node of another domain, or of an op not in `sameTypeOps`, or holding a subgraph;
/// 3. a node without exactly one output, or whose inputs' types are not all known, equal and
///    float (an input defined by a later node, an omitted optional input, mixed or other types);
/// 4. a graph output that no node computes and that is no graph input (an initializer, a sparse
///    one: a run might not produce it, and the probe's error comes first).
///
/// A model that fails in a kernel still fails, in the first calibration run instead of the
/// probe run (the message then names the calibration sample).
enum StaticElementTypes {
  /// Ops whose single output has the element type of their inputs, which all share one type.
  static let sameTypeOps: Set<String> = [
    "Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Conv", "Div", "Flatten", "Gemm",
    "GlobalAveragePool", "HardSigmoid", "HardSwish", "Identity", "LeakyRelu", "MatMul", "MaxPool", "Mul", "Relu",
    "Sigmoid", "Softmax", "Sub", "Tanh", "Transpose",
  ]

  /// The element types of `model`'s main-graph inputs and node outputs by name, or nil when one
  /// of them is not certain (a skip case).
  static func infer(_ model: Model) -> [String: DataType]? {
    let graph = model.graph
    var types: [String: DataType] = [:]
    types.reserveCapacity(graph.inputs.count + graph.nodeCount)
    for input in graph.inputs {
      // Skip case 1.
      guard !graph.isInitializer(input), let type = input.type?.tensorType?.elementType else { return nil }
      types[input.name] = type
    }
    for node in graph.nodes {
      // Skip cases 2 and 3.
      guard node.isStandard, sameTypeOps.contains(node.opType), node.subgraphs.isEmpty, node.outputs.count == 1,
        let output = node.outputs[0], let first = node.inputs.first, let type = elementType(first, types, graph),
        type == .float
      else { return nil }
      for input in node.inputs.dropFirst() where elementType(input, types, graph) != type { return nil }
      types[output.name] = type
    }
    // Skip case 4.
    for output in graph.outputs where types[output.name] == nil { return nil }
    return types
  }

  /// The type of `value` when known: an initializer's stored type, or one recorded in `types`.
  private static func elementType(_ value: Value?, _ types: [String: DataType], _ graph: Graph) -> DataType? {
    guard let value else { return nil }
    if value.hasInitializer { return graph.isInitializer(value) ? value.initializer?.elementType : nil }
    return types[value.name]
  }
}
