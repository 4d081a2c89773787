import XCTest

@testable import ONNXQAT

/// Values refer to their producer and their users without reference counts (`Value.UseEntry`):
/// these tests pin the rule that makes that safe, that a node which goes takes every such
/// reference with it, whatever way it goes (never inserted, removed, its graph released).
final class NodeLifetimeTests: XCTestCase {
  /// A graph X -> Relu -> Neg -> Y.
  private func chain() throws -> (graph: Graph, x: Value, relu: Node, neg: Node) {
    let graph = Graph(name: "g")
    let x = Value(name: "X")
    graph.inputs = [x]
    let relu = Node(opType: "Relu", name: "a", inputs: [x], outputNames: ["r"])
    let neg = Node(opType: "Neg", name: "b", inputs: [relu.output], outputNames: ["Y"])
    try graph.append(relu)
    try graph.append(neg)
    graph.outputs = [try XCTUnwrap(neg.output)]
    return (graph, x, relu, neg)
  }

  func testANodeThatIsNeverInsertedLeavesNoUseWhenItGoes() throws {
    let x = Value(name: "X")
    var output: Value?
    do {
      let node = Node(opType: "Relu", inputs: [x, x], outputNames: ["r"])
      output = node.output
      XCTAssertEqual(x.uses.count, 2)
      XCTAssertTrue(output?.producer === node)
    }
    XCTAssertTrue(x.uses.isEmpty)
    XCTAssertFalse(x.hasUses)
    XCTAssertNil(x.firstUser)
    XCTAssertNil(output?.producer, "the output outlives its producer and forgets it")
  }

  func testARemovedNodeThatGoesClearsItsOutputsProducer() throws {
    let graph = Graph(name: "g")
    let x = Value(name: "X")
    graph.inputs = [x]
    var relu: Node? = Node(opType: "Relu", name: "a", inputs: [x], outputNames: ["r"])
    let r = try XCTUnwrap(relu?.output)
    try graph.append(try XCTUnwrap(relu))
    try graph.remove(try XCTUnwrap(relu))
    XCTAssertTrue(r.producer === relu, "removed but still held: still the producer")
    XCTAssertFalse(x.hasUses)
    relu = nil
    XCTAssertNil(r.producer)
  }

  func testAUsesSnapshotStaysValidAfterItsNodesGo() throws {
    var graph: Graph?
    var input: Value?
    do {
      let built = try chain()
      graph = built.graph
      input = built.x
    }
    let x = try XCTUnwrap(input)
    let snapshot = x.uses
    graph?.outputs = []
    try graph?.remove(graph?.nodes ?? [])
    graph = nil
    XCTAssertTrue(x.uses.isEmpty)
    XCTAssertEqual(snapshot.count, 1)
    XCTAssertEqual(snapshot.first?.node?.opType, "Relu", "a snapshot holds its nodes")
    XCTAssertEqual(snapshot.first?.node?.inputs.first??.name, "X")
  }

  func testARemovedNodeIsNoUserOfWhatItsInputsBecome() throws {
    let (graph, x, relu, neg) = try chain()
    let r = try XCTUnwrap(relu.output)
    graph.outputs = [r]
    try graph.remove(neg)
    try neg.replaceInput(at: 0, with: x)
    neg.appendInput(r)
    XCTAssertTrue(neg.inputs[0] === x)
    XCTAssertEqual(x.uses.count, 1, "only Relu uses X")
    XCTAssertFalse(r.hasUses)
  }

  func testReleasingAGraphLeavesHeldValuesWithoutUsersOrProducers() throws {
    var x: Value?
    var r: Value?
    do {
      let (graph, input, relu, _) = try chain()
      x = input
      r = relu.output
      XCTAssertEqual(graph.nodeCount, 2)
    }
    XCTAssertFalse(try XCTUnwrap(x).hasUses)
    XCTAssertNil(r?.producer)
    XCTAssertFalse(try XCTUnwrap(r).hasUses)
  }

  func testManyUsersOfOneValueGoInAnyOrder() throws {
    // Over 16 users a value indexes its uses; nodes released in a scrambled order must each
    // take exactly their own entries.
    let shared = Value(name: "S")
    var nodes: [Node?] = (0..<100).map { Node(opType: "Add", inputs: [shared, shared], outputNames: ["o\($0)"]) }
    var generator = SystemRandomNumberGenerator()
    var order = Array(nodes.indices)
    order.shuffle(using: &generator)
    for (released, index) in order.enumerated() {
      nodes[index] = nil
      XCTAssertEqual(shared.uses.count, 2 * (nodes.count - released - 1))
      let expected = nodes.compactMap { $0 }.flatMap { node in [0, 1].map { Value.Use(node: node, inputIndex: $0) } }
      XCTAssertEqual(shared.uses, expected)
    }
  }

  func testReservedCapacityKeepsNameChecks() throws {
    let (graph, x, relu, _) = try chain()
    graph.reserveCapacity(nodes: 1_000, initializers: 1_000)
    XCTAssertTrue(graph.hasNodeNamed("a"))
    XCTAssertFalse(graph.hasNodeNamed("c"))
    XCTAssertEqual(graph.uniqueNodeName("a"), "a_1")
    let duplicate = Node(opType: "Relu", name: "c", inputs: [x], outputNames: ["r"])
    XCTAssertThrowsError(try graph.insert([Graph.Placement(duplicate, anchor: relu, after: true)]))
    XCTAssertEqual(graph.nodeCount, 2, "a refused insertion changes nothing")
    let fresh = Node(opType: "Relu", name: "c", inputs: [x], outputNames: ["c_out"])
    try graph.insert([Graph.Placement(fresh, anchor: relu, after: true)])
    XCTAssertTrue(graph.value(named: "c_out") === fresh.output)
    XCTAssertTrue(graph.hasNodeNamed("c"))
    XCTAssertEqual(graph.nodes.map(\.name), ["a", "c", "b"])
  }
}
