import Foundation

/// Outputs of the main graph's nodes that depend only on initializers (weight
/// QuantizeLinear -> DequantizeLinear chains of fake-quant graphs, Constant nodes, shape
/// arithmetic on constants), computed on an Interpreter's first run and reused by later runs.
///
/// A node is constant when every input it names is an initializer that is not also a graph input
/// (a graph input may be overridden by the caller) or an output of a constant node, it has no
/// subgraph, and its op is deterministic (skip cases below). Kernels never modify their inputs
/// or outputs after returning them, so a cached tensor can be handed to any number of later runs.
/// The cache holds at most `limit` bytes; a node whose outputs would exceed it is recomputed on
/// every run, as without the cache.
///
/// Skip cases (the node runs every time):
/// 1. an input that is a graph input, or the output of a node that is not constant;
/// 2. a subgraph attribute (If, Loop, Scan);
/// 3. a random op (RandomNormal, RandomUniform, RandomNormalLike, RandomUniformLike, Bernoulli,
///    Multinomial, Dropout);
/// 4. outputs larger than what is left of the byte limit.
final class ConstantCache {
  /// Ops whose results differ from run to run (skip 3).
  static let randomOps: Set<String> = [
    "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial", "Dropout",
  ]

  private let constantNodes: Set<ObjectIdentifier>
  private var results: [ObjectIdentifier: [HostTensor?]] = [:]
  private var bytes = 0
  /// Guards `results` and `bytes`: the interpreters of one model's sample lanes share the cache.
  private let lock = NSLock()
  let limit: Int

  /// The constant nodes of `graph`, in a cache of at most `limit` bytes.
  init(graph: Graph, limit: Int) {
    self.limit = limit
    let inputs = Set(graph.inputs.map { ObjectIdentifier($0) })
    // Outputs of constant nodes; initializers are asked of the graph (no set of them all).
    var known = Set<ObjectIdentifier>()
    func isConstant(_ value: Value) -> Bool {
      let id = ObjectIdentifier(value)
      return known.contains(id) || (graph.isInitializer(value) && !inputs.contains(id))
    }
    var nodes = Set<ObjectIdentifier>()
    for node in graph.nodes {
      let constant =
        node.inputs.allSatisfy { $0.map(isConstant) ?? true }  // skip 1
        && node.subgraphs.isEmpty  // skip 2
        && !Self.randomOps.contains(node.opType)  // skip 3
      guard constant else { continue }
      nodes.insert(ObjectIdentifier(node))
      for case let output? in node.outputs { known.insert(ObjectIdentifier(output)) }
    }
    constantNodes = nodes
  }

  /// True when `node` is one of the constant nodes.
  func isConstant(_ node: Node) -> Bool { constantNodes.contains(ObjectIdentifier(node)) }

  /// The outputs stored for `node` by an earlier run.
  func outputs(of node: Node) -> [HostTensor?]? {
    lock.lock()
    defer { lock.unlock() }
    return results[ObjectIdentifier(node)]
  }

  /// Keeps the outputs of constant node `node` when they fit in what is left of the limit (skip 4).
  func store(_ outputs: [HostTensor?], of node: Node) {
    guard isConstant(node) else { return }
    let size = outputs.reduce(0) { $0 + ($1.map { $0.count * Swift.max(1, $0.dataType.storageStride) } ?? 0) }
    lock.lock()
    defer { lock.unlock() }
    guard results[ObjectIdentifier(node)] == nil, bytes + size <= limit else { return }
    bytes += size
    results[ObjectIdentifier(node)] = outputs
  }
}
