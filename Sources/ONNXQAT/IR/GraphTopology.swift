/// Order and cycle checks over a graph's nodes. A node depends on the producers of its inputs
/// and of the outer values its subgraphs capture.
public enum GraphTopology {
  /// The nodes of `graph` in a topological order (stable: file order where free), or nil when
  /// the graph has a cycle; `cycle` then receives the nodes that could not be ordered.
  public static func sortedNodes(_ graph: Graph, cycle: inout [Node]) -> [Node]? {
    let nodes = graph.nodes
    var indexOf: [ObjectIdentifier: Int] = [:]
    indexOf.reserveCapacity(nodes.count)
    for (index, node) in nodes.enumerated() { indexOf[ObjectIdentifier(node)] = index }
    var pending = [Int](repeating: 0, count: nodes.count)
    var dependents = [[Int]](repeating: [], count: nodes.count)
    // The node that last counted each producer, so a producer feeding a node twice counts once.
    var countedFor = [Int](repeating: -1, count: nodes.count)
    func depend(_ index: Int, on value: Value?) {
      guard let producer = value?.producer, let producerIndex = indexOf[ObjectIdentifier(producer)],
        countedFor[producerIndex] != index
      else { return }
      countedFor[producerIndex] = index
      pending[index] += 1
      dependents[producerIndex].append(index)
    }
    for (index, node) in nodes.enumerated() {
      for input in node.inputs { depend(index, on: input) }
      if node.attributes.isEmpty { continue }
      for subgraph in node.subgraphs {
        for inner in subgraph.allNodes { for input in inner.inputs { depend(index, on: input) } }
      }
    }
    var ready = (0..<nodes.count).filter { pending[$0] == 0 }.reversed() as [Int]
    var order: [Node] = []
    order.reserveCapacity(nodes.count)
    while let next = ready.popLast() {
      order.append(nodes[next])
      for dependent in dependents[next].reversed() {
        pending[dependent] -= 1
        if pending[dependent] == 0 { ready.append(dependent) }
      }
    }
    if order.count == nodes.count { return order }
    cycle = nodes.indices.filter { pending[$0] > 0 }.map { nodes[$0] }
    return nil
  }

  /// Throws `invalidModel` naming the nodes on a cycle, if there is one.
  static func checkAcyclic(_ graph: Graph, path: String, context: String) throws {
    var cycle: [Node] = []
    if sortedNodes(graph, cycle: &cycle) != nil { return }
    let names = cycle.prefix(5).map(\.label).joined(separator: ", ")
    let more = cycle.count > 5 ? " and \(cycle.count - 5) more" : ""
    throw ONNXQATError.invalidModel(
      path: path, reason: "\(context): the graph has a cycle through nodes \(names)\(more)")
  }
}
