import XCTest

@testable import ONNXQAT

/// The IR's edit operations, each with its refusals; a refused edit leaves the graph unchanged.
final class IRTests: XCTestCase {
  /// X -> Relu(a) -> Sigmoid(b) -> Y, with an initializer W used by nothing yet.
  private func chain() throws -> (Graph, Value, Node, Node, Value) {
    let graph = Graph(name: "g")
    let x = Value(name: "X", type: .tensor(.float, [1, 4]))
    graph.inputs = [x]
    let relu = Node(opType: "Relu", name: "a", inputs: [x], outputNames: ["r"])
    let sigmoid = Node(opType: "Sigmoid", name: "b", inputs: [relu.output], outputNames: ["Y"])
    try graph.append(relu)
    try graph.append(sigmoid)
    graph.outputs = [try XCTUnwrap(sigmoid.output)]
    let w = try graph.addInitializer(
      named: "W", Tensor(name: nil, dataType: .float, dims: [4], rawData: Data(count: 16)))
    return (graph, x, relu, sigmoid, w)
  }

  func testNodeCreationRegistersUsesAndProducer() throws {
    let (graph, x, relu, sigmoid, _) = try chain()
    XCTAssertEqual(x.uses, [Value.Use(node: relu, inputIndex: 0)])
    XCTAssertTrue(relu.output?.producer === relu)
    XCTAssertEqual(relu.output?.uses.count, 1)
    XCTAssertTrue(relu.output?.uses.first?.node === sigmoid)
    XCTAssertTrue(relu.graph === graph)
  }

  func testReplaceInputMovesTheUse() throws {
    let (_, x, relu, sigmoid, w) = try chain()
    try sigmoid.replaceInput(at: 0, with: w)
    XCTAssertEqual(relu.output?.uses.count, 0)
    XCTAssertEqual(w.uses, [Value.Use(node: sigmoid, inputIndex: 0)])
    XCTAssertEqual(x.uses.count, 1)
    try sigmoid.replaceInput(at: 0, with: nil)
    XCTAssertNil(sigmoid.inputs[0])
    XCTAssertTrue(w.uses.isEmpty)
  }

  func testReplaceInputRefusesAMissingSlot() throws {
    let (_, _, _, sigmoid, w) = try chain()
    XCTAssertThrowsError(try sigmoid.replaceInput(at: 3, with: w)) { error in
      XCTAssertTrue("\(error)".contains("there is no input 3"), "\(error)")
    }
    XCTAssertTrue(w.uses.isEmpty)
  }

  func testReplaceAllUsesRefusesGraphOutputsUnlessAsked() throws {
    let (graph, x, _, sigmoid, _) = try chain()
    let y = try XCTUnwrap(sigmoid.output)
    let identity = Node(opType: "Identity", inputs: [x], outputNames: ["Z"])
    try graph.append(identity)
    let z = try XCTUnwrap(identity.output)
    XCTAssertThrowsError(try graph.replaceAllUses(of: y, with: z)) { error in
      XCTAssertTrue("\(error)".contains("is an output of graph 'g'"), "\(error)")
    }
    XCTAssertTrue(graph.outputs[0] === y, "a refused edit changes nothing")
    try graph.replaceAllUses(of: y, with: z, replacingGraphOutputs: true)
    XCTAssertTrue(graph.outputs[0] === z)
  }

  func testReplaceAllUsesMovesEveryConsumerIncludingSubgraphCaptures() throws {
    let (graph, x, relu, sigmoid, _) = try chain()
    let r = try XCTUnwrap(relu.output)
    // A subgraph node capturing `r` from the outer graph.
    let body = Graph(name: "then")
    let captured = Node(opType: "Identity", inputs: [r], outputNames: ["t"])
    try body.append(captured)
    body.outputs = [try XCTUnwrap(captured.output)]
    let condition = Value(name: "cond", type: .tensor(.bool, []))
    graph.inputs.append(condition)
    let branch = Node(
      opType: "If", inputs: [condition], outputNames: ["o"],
      attributes: [Attribute(name: "then_branch", .graph(body)), Attribute(name: "else_branch", .graph(body))])
    try graph.append(branch)
    XCTAssertEqual(r.uses.count, 2)
    try graph.replaceAllUses(of: r, with: x)
    XCTAssertTrue(r.uses.isEmpty)
    XCTAssertTrue(sigmoid.inputs[0] === x)
    XCTAssertTrue(captured.inputs[0] === x)
    XCTAssertTrue(body.owningNode === branch)
  }

  func testRemoveRefusesUsedNodesAndGraphOutputs() throws {
    let (graph, _, relu, sigmoid, _) = try chain()
    XCTAssertThrowsError(try graph.remove(relu)) { error in
      XCTAssertTrue("\(error)".contains("is still used by node 'b' (Sigmoid)"), "\(error)")
    }
    XCTAssertThrowsError(try graph.remove(sigmoid)) { error in
      XCTAssertTrue("\(error)".contains("is a graph output"), "\(error)")
    }
    XCTAssertEqual(graph.nodes.count, 2, "refused removals change nothing")
  }

  func testRemovingADeadChainTogetherSucceeds() throws {
    let (graph, x, relu, sigmoid, _) = try chain()
    let bypass = Node(opType: "Identity", inputs: [x], outputNames: ["Y2"])
    try graph.append(bypass)
    graph.outputs = [try XCTUnwrap(bypass.output)]
    XCTAssertThrowsError(try graph.remove(relu), "sigmoid still uses it")
    try graph.remove([relu, sigmoid])
    XCTAssertEqual(graph.nodes.map(\.opType), ["Identity"])
    XCTAssertEqual(x.uses.count, 1, "the removed node's use of X is gone")
    XCTAssertNil(relu.graph)
  }

  func testRemoveRefusesANodeOfAnotherGraph() throws {
    let (graph, x, _, _, _) = try chain()
    let stray = Node(opType: "Relu", inputs: [x], outputNames: ["s"])
    XCTAssertThrowsError(try graph.remove(stray)) { error in
      XCTAssertTrue("\(error)".contains("is not in graph"), "\(error)")
    }
  }

  func testAppendRefusesDuplicateNamesAndNodesOwnedElsewhere() throws {
    let (graph, x, relu, _, _) = try chain()
    let duplicate = Node(opType: "Relu", inputs: [x], outputNames: ["r"])
    XCTAssertThrowsError(try graph.append(duplicate)) { error in
      XCTAssertTrue("\(error)".contains("output 'r' is already defined"), "\(error)")
    }
    XCTAssertThrowsError(try graph.append(relu)) { error in
      XCTAssertTrue("\(error)".contains("already belongs to a graph"), "\(error)")
    }
    XCTAssertEqual(graph.nodes.count, 2)
  }

  func testInsertBeforeAndAfterKeepOrder() throws {
    let (graph, x, relu, sigmoid, _) = try chain()
    let first = Node(opType: "Abs", inputs: [x], outputNames: ["p"])
    let middle = Node(opType: "Neg", inputs: [x], outputNames: ["q"])
    try graph.insert(first, before: relu)
    try graph.insert(middle, after: relu)
    XCTAssertEqual(graph.nodes.map(\.opType), ["Abs", "Relu", "Neg", "Sigmoid"])
    let orphan = Node(opType: "Exp", inputs: [x], outputNames: ["e"])
    let stranger = Node(opType: "Exp", inputs: [x], outputNames: ["f"])
    XCTAssertThrowsError(try graph.insert(orphan, before: stranger))
    XCTAssertTrue(sigmoid.graph === graph)
  }

  func testInitializersAddReplaceRemove() throws {
    let (graph, _, _, sigmoid, w) = try chain()
    XCTAssertThrowsError(try graph.addInitializer(named: "X", Tensor(name: nil, dataType: .float, dims: []))) { error in
      XCTAssertTrue("\(error)".contains("'X' is already defined"), "\(error)")
    }
    try graph.setInitializer(w, Tensor(name: "ignored", dataType: .float, dims: [2], rawData: Data(count: 8)))
    XCTAssertEqual(w.initializer?.name, "W", "the initializer keeps its value's name")
    XCTAssertEqual(w.initializer?.dims, [2])
    try sigmoid.replaceInput(at: 0, with: w)
    XCTAssertThrowsError(try graph.removeInitializer(w)) { error in
      XCTAssertTrue("\(error)".contains("is still used by node 'b' (Sigmoid)"), "\(error)")
    }
    XCTAssertEqual(graph.initializers.count, 1)
    let loose = Value(name: "loose")
    XCTAssertThrowsError(try graph.setInitializer(loose, Tensor(name: nil, dataType: .float, dims: [])))
    XCTAssertThrowsError(try graph.removeInitializer(loose))
  }

  func testRemoveInitializerOnceUnused() throws {
    let (graph, _, _, _, w) = try chain()
    try graph.removeInitializer(w)
    XCTAssertTrue(graph.initializers.isEmpty)
    XCTAssertNil(w.initializer)
  }

  func testRenameRefusesTakenNames() throws {
    let (graph, x, relu, _, _) = try chain()
    let r = try XCTUnwrap(relu.output)
    XCTAssertThrowsError(try graph.rename(r, to: "X")) { error in
      XCTAssertTrue("\(error)".contains("'X' is already defined"), "\(error)")
    }
    XCTAssertEqual(r.name, "r")
    try graph.rename(r, to: "relu_out")
    XCTAssertEqual(r.name, "relu_out")
    XCTAssertEqual(graph.uniqueName("X"), "X_1")
    XCTAssertEqual(graph.uniqueName("fresh"), "fresh")
    XCTAssertTrue(graph.value(named: "relu_out") === r)
    XCTAssertTrue(graph.value(named: "X") === x)
  }

  func testTopologicalOrderAndCycleDetection() throws {
    let (graph, _, relu, sigmoid, _) = try chain()
    var cycle: [Node] = []
    XCTAssertEqual(GraphTopology.sortedNodes(graph, cycle: &cycle)?.map(\.opType), ["Relu", "Sigmoid"])
    // Close a loop: relu now reads sigmoid's output.
    try relu.replaceInput(at: 0, with: sigmoid.output)
    XCTAssertNil(GraphTopology.sortedNodes(graph, cycle: &cycle))
    XCTAssertEqual(Set(cycle.map(\.opType)), ["Relu", "Sigmoid"])
  }
}
