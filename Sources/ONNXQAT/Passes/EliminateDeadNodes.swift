import Foundation

/// Removes nodes whose outputs nothing uses, and initializers nothing uses.
///
/// The maths: a graph computes its outputs; a node contributes only through values some other
/// live node, a subgraph of a live node, or the graph's outputs consume. Removing a node none of
/// whose outputs is used (and none a graph output) cannot change any graph output. Liveness is
/// transitive: graphs are swept innermost first, and each graph's nodes last to first, so a
/// chain of dead nodes and the captures of a dead node's subgraphs go in one run. ONNX ops have
/// no side effects, so dead nodes of non-standard domains go too; the note counts them.
///
/// Before:
///
///     <ir_version: 8, opset_import: ["" : 13]>
///     g (float[2] x) => (float[2] y) <float[2] unused = {1, 2}> {
///       a = Relu(x)
///       b = Neg(a)
///       y = Abs(x)
///     }
///
/// After:
///
///     g (float[2] x) => (float[2] y) {
///       y = Abs(x)
///     }
///
/// Skip cases:
/// 1. a node with an output that is a graph output (of its own graph) stays;
/// 2. an initializer that is a graph input stays: from IR version 4 on it is an overridable
///    input; in IR version 3, where every initializer must be an input, an unused one of the
///    main graph goes together with its input entry, but a subgraph's inputs are fixed by its op;
/// 3. an initializer named by a quantization annotation stays;
/// 4. sparse initializers stay;
/// 5. in a model with `training_info`, the main graph's initializers stay: the training
///    algorithms refer to them by name.
public struct EliminateDeadNodes: ModelPass {
  public let name = "eliminate-dead-nodes"

  public init() {}

  public func run(_ model: Model, log: RewriteLog) throws -> PassResult {
    var removedNodes = 0
    var nonStandard: [String: Int] = [:]
    for graph in model.rewritableGraphs.reversed() {
      // One backward sweep finds every dead node (a node is dead when all of its outputs are
      // used only by dead nodes), then one removal takes them all out.
      var doomed: [Node] = []
      var doomedIDs = Set<ObjectIdentifier>()
      for node in graph.nodes.reversed() where node.graph === graph {
        let dead = node.outputs.compactMap { $0 }.allSatisfy { output in
          !graph.outputs.contains { $0 === output }  // skip case 1
            && output.users.allSatisfy { doomedIDs.contains(ObjectIdentifier($0)) }
        }
        guard dead else { continue }
        doomed.append(node)
        doomedIDs.insert(ObjectIdentifier(node))
        // Values its subgraphs capture lose those uses with it.
        for inner in node.subgraphs.flatMap(\.allNodes) { doomedIDs.insert(ObjectIdentifier(inner)) }
      }
      guard !doomed.isEmpty else { continue }
      // The doomed nodes' subgraphs no longer capture outer values.
      for node in doomed {
        for inner in node.subgraphs.flatMap(\.allNodes) { inner.detachInputs() }
      }
      try graph.remove(doomed)
      var removedOutputs = Set<ObjectIdentifier>()
      for node in doomed {
        for output in node.outputs.compactMap({ $0 }) { removedOutputs.insert(ObjectIdentifier(output)) }
        removedNodes += 1
        if !node.isStandard { nonStandard[node.domain, default: 0] += 1 }
      }
      graph.valueInfos.removeAll { removedOutputs.contains(ObjectIdentifier($0)) }
    }
    var removedInitializers = 0
    for graph in model.rewritableGraphs {
      if graph === model.graph && !model.trainingInfo.isEmpty { continue }  // skip case 5
      let annotated = Set(
        graph.quantizationAnnotations.flatMap { annotation -> [String] in
          [annotation.tensorName].compactMap { $0 } + annotation.quantParameterTensorNames.map(\.value)
        })
      for value in graph.initializers where value.uses.isEmpty {
        if graph.outputs.contains(where: { $0 === value }) || annotated.contains(value.name) { continue }  // 3
        let isInput = graph.inputs.contains { $0 === value }
        if isInput && (graph !== model.graph || (model.irVersion ?? 3) >= 4) { continue }  // skip case 2
        try graph.removeInitializer(value)
        if isInput { graph.inputs.removeAll { $0 === value } }
        graph.valueInfos.removeAll { $0 === value }
        removedInitializers += 1
      }
    }
    if removedNodes > 0 {
      let domains = nonStandard.sorted { $0.key < $1.key }.map { "\($0.value) of domain '\($0.key)'" }
      log.note(
        name,
        "removed \(removedNodes) dead node\(removedNodes == 1 ? "" : "s")"
          + (domains.isEmpty ? "" : " (\(domains.joined(separator: ", ")))"))
    }
    if removedInitializers > 0 {
      log.note(name, "removed \(removedInitializers) unused initializer\(removedInitializers == 1 ? "" : "s")")
    }
    let modified = removedNodes + removedInitializers > 0
    return PassResult(model: model, modified: modified, converged: !modified)
  }
}
