import Foundation
import XCTest

@testable import ONNXQAT

/// The graph's node and initializer storage (`OrderedObjectList`): after many inserts and removals
/// `nodes` is the order a plain array edited the same way has, `index(of:)` agrees with it, and
/// refused edits leave order, positions and initializers unchanged.
final class GraphStorageTests: XCTestCase {
  /// A deterministic generator (SplitMix64), so a failure replays.
  private struct Generator {
    var state: UInt64
    mutating func next(_ bound: Int) -> Int {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return Int((z ^ (z >> 31)) % UInt64(bound))
    }
  }

  /// A graph with input X and no nodes; every node made by `node` reads X, so any node can go.
  private func emptyGraph() -> (Graph, Value) {
    let graph = Graph(name: "g")
    let x = Value(name: "X", type: .tensor(.float, [1]))
    graph.inputs = [x]
    return (graph, x)
  }

  private func node(_ index: Int, reading x: Value) -> Node {
    Node(opType: "Relu", name: "n\(index)", inputs: [x], outputNames: ["v\(index)"])
  }

  private func assertSameOrder(_ graph: Graph, _ expected: [Node], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(graph.nodes.map(\.name), expected.map(\.name), file: file, line: line)
    XCTAssertEqual(graph.nodeCount, expected.count, file: file, line: line)
    for (position, node) in expected.enumerated() where graph.index(of: node) != position {
      XCTFail(
        "index(of: \(node.name)) is \(String(describing: graph.index(of: node))), not \(position)", file: file,
        line: line)
      return
    }
  }

  func testOrderAndIndicesMatchAnArrayAfterThousandsOfRandomEdits() throws {
    let (graph, x) = emptyGraph()
    var expected: [Node] = []
    var removed: [Node] = []
    var generator = Generator(state: 42)
    var made = 0
    for step in 0..<4000 {
      let choice = expected.isEmpty ? 0 : generator.next(10)
      switch choice {
      case 0...2:
        let new = node(made, reading: x)
        made += 1
        try graph.append(new)
        expected.append(new)
      case 3...4:
        let new = node(made, reading: x)
        made += 1
        let anchor = generator.next(expected.count)
        try graph.insert(new, before: expected[anchor])
        expected.insert(new, at: anchor)
      case 5:
        let new = node(made, reading: x)
        made += 1
        let anchor = generator.next(expected.count)
        try graph.insert(new, after: expected[anchor])
        expected.insert(new, at: anchor + 1)
      case 6:
        // Two placements at one anchor keep their order, before and after it.
        let anchor = expected[generator.next(expected.count)]
        let group = (0..<4).map { node(made + $0, reading: x) }
        made += 4
        try graph.insert([
          .init(group[0], anchor: anchor, after: false), .init(group[1], anchor: anchor, after: true),
          .init(group[2], anchor: anchor, after: false), .init(group[3], anchor: anchor, after: true),
        ])
        let at = try XCTUnwrap(expected.firstIndex { $0 === anchor })
        expected.replaceSubrange(at...at, with: [group[0], group[2], anchor, group[1], group[3]])
      default:
        // Remove one, or a batch of up to 8, often enough that more than half the slots empty.
        let count = min(expected.count, 1 + generator.next(8))
        var doomed: [Node] = []
        for _ in 0..<count { doomed.append(expected.remove(at: generator.next(expected.count))) }
        try graph.remove(doomed)
        removed += doomed
      }
      if step % 97 == 0 { assertSameOrder(graph, expected) }
    }
    assertSameOrder(graph, expected)
    XCTAssertTrue(removed.allSatisfy { $0.graph == nil && graph.index(of: $0) == nil && !graph.contains($0) })
    XCTAssertTrue(removed.allSatisfy { !graph.isDefined($0.output?.name ?? "") })
    XCTAssertEqual(x.uses.count, expected.count, "a removed node no longer uses X")
  }

  func testPlacementsAtTheFrontKeepTheirOrder() throws {
    let (graph, x) = emptyGraph()
    let existing = (0..<3).map { node($0, reading: x) }
    for node in existing { try graph.append(node) }
    let front = (3..<6).map { node($0, reading: x) }
    try graph.insert(front.map { .init($0, anchor: nil, after: false) })
    assertSameOrder(graph, front + existing)
  }

  func testEmptyingTheGraphThenAppendingStartsAFreshOrder() throws {
    let (graph, x) = emptyGraph()
    let first = (0..<200).map { node($0, reading: x) }
    for node in first { try graph.append(node) }
    try graph.remove(first)
    assertSameOrder(graph, [])
    let second = (200..<203).map { node($0, reading: x) }
    try graph.insert([.init(second[1], anchor: nil, after: false)])
    try graph.append(second[2])
    try graph.insert(second[0], before: second[1])
    assertSameOrder(graph, second)
  }

  func testRefusedEditsLeaveOrderPositionsAndNamesUnchanged() throws {
    let (graph, x) = emptyGraph()
    var nodes = (0..<100).map { node($0, reading: x) }
    for node in nodes { try graph.append(node) }
    try graph.remove(Array(nodes[10..<70]))  // leaves tombstones behind, then compacts
    nodes.removeSubrange(10..<70)
    _ = graph.index(of: nodes[0])  // builds the position cache a refused edit must not spoil

    let outsider = node(500, reading: x)
    XCTAssertThrowsError(try graph.insert(node(501, reading: x), before: outsider))
    XCTAssertThrowsError(try graph.insert(node(502, reading: x), after: outsider))
    // A batch whose last placement clashes with an existing output name: none goes in.
    let clash = Node(opType: "Relu", name: "clash", inputs: [x], outputNames: [nodes[3].output?.name])
    XCTAssertThrowsError(
      try graph.insert([
        .init(node(503, reading: x), anchor: nodes[1], after: false), .init(clash, anchor: nil, after: true),
      ]))
    XCTAssertThrowsError(try graph.insert([.init(node(504, reading: x), anchor: outsider, after: true)]))
    // Removing a node still used, together with an unused one: neither goes.
    let user = Node(opType: "Relu", name: "user", inputs: [nodes[5].output], outputNames: ["u"])
    try graph.append(user)
    nodes.append(user)
    XCTAssertThrowsError(try graph.remove([nodes[4], nodes[5]]))
    XCTAssertThrowsError(try graph.remove(outsider))
    assertSameOrder(graph, nodes)
    XCTAssertFalse(graph.isDefined("v501") || graph.isDefined("v503") || graph.isDefined("v504"))
    XCTAssertTrue(nodes.allSatisfy { $0.graph === graph })
  }

  func testASharedValueKeepsItsUsesInOrderThroughManyRemovals() throws {
    let (graph, x) = emptyGraph()
    var expected = (0..<300).map { node($0, reading: x) }
    for node in expected { try graph.append(node) }
    var generator = Generator(state: 7)
    while expected.count > 3 {
      let doomed = expected.remove(at: generator.next(expected.count))
      try graph.remove(doomed)
      if expected.count % 37 == 0 {
        XCTAssertEqual(x.uses.map { $0.node?.name }, expected.map(\.name))
        XCTAssertTrue(x.hasUses && x.firstUser === expected[0])
      }
    }
    try expected[1].replaceInput(at: 0, with: nil)
    XCTAssertEqual(x.uses.map { $0.node?.name }, [expected[0].name, expected[2].name])
    XCTAssertNil(x.soleUser)
    try graph.remove([expected[0], expected[2]])
    XCTAssertTrue(x.soleUser == nil && !x.hasUses && x.uses.isEmpty)
  }

  func testInitializersKeepOrderThroughRemovalsAndRefusals() throws {
    let (graph, x) = emptyGraph()
    let tensor = Tensor(name: nil, dataType: .float, dims: [1], rawData: Data(count: 4))
    var expected: [Value] = []
    for index in 0..<150 { expected.append(try graph.addInitializer(named: "w\(index)", tensor)) }
    for index in stride(from: 0, to: 150, by: 3) { try graph.removeInitializer(expected[index]) }
    let gone = stride(from: 0, to: 150, by: 3).map { expected[$0] }
    expected = expected.enumerated().filter { $0.offset % 3 != 0 }.map(\.element)
    let used = expected[7]
    try graph.append(Node(opType: "Add", name: "add", inputs: [x, used], outputNames: ["sum"]))
    XCTAssertThrowsError(try graph.removeInitializer(used))
    XCTAssertThrowsError(try graph.removeInitializer(gone[0]), "already removed")
    XCTAssertEqual(graph.initializers.map(\.name), expected.map(\.name))
    XCTAssertTrue(expected.allSatisfy { graph.isInitializer($0) && graph.value(named: $0.name) === $0 })
    XCTAssertTrue(gone.allSatisfy { !graph.isInitializer($0) && graph.value(named: $0.name) == nil })
    let again = try graph.addInitializer(named: gone[0].name, tensor)
    XCTAssertTrue(graph.initializers.last === again && graph.value(named: gone[0].name) === again)
  }
}
