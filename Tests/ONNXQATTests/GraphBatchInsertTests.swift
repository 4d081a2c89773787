import Foundation
import XCTest

@testable import ONNXQAT

/// `Graph.insert(_ placements:)` records the new output names in the graph's name table as it
/// checks them (one insertion per name): a refused batch, whatever the placement that fails,
/// must leave every name as it was, and an accepted one must define each new name as its node's
/// output, in the order the placements give.
final class GraphBatchInsertTests: XCTestCase {
  /// A graph X -> Relu (a) -> Neg (b) -> Y.
  private func chain() throws -> (graph: Graph, x: Value, relu: Node) {
    let graph = Graph(name: "g")
    let x = Value(name: "X")
    graph.inputs = [x]
    let relu = Node(opType: "Relu", name: "a", inputs: [x], outputNames: ["r"])
    try graph.append(relu)
    try graph.append(Node(opType: "Neg", name: "b", inputs: [relu.output], outputNames: ["Y"]))
    return (graph, x, relu)
  }

  private func names(_ graph: Graph) -> [String] { graph.nodes.map(\.name) }

  /// An unnamed Relu of `input` writing `output`.
  private func reluNode(_ input: Value, _ output: String) -> Node {
    Node(opType: "Relu", inputs: [input], outputNames: [output])
  }

  func testAcceptedBatchDefinesEachNewOutput() throws {
    let (graph, x, relu) = try chain()
    let first = Node(opType: "Relu", name: "c", inputs: [x], outputNames: ["c_out"])
    let second = Node(opType: "Relu", name: "d", inputs: [x], outputNames: ["d_out"])
    try graph.insert([
      Graph.Placement(first, anchor: relu, after: true), Graph.Placement(second, anchor: relu, after: true),
    ])
    XCTAssertTrue(graph.value(named: "c_out") === first.output)
    XCTAssertTrue(graph.value(named: "d_out") === second.output)
    XCTAssertTrue(graph.hasNodeNamed("c") && graph.hasNodeNamed("d"))
    XCTAssertEqual(names(graph), ["a", "c", "d", "b"])
  }

  /// Refusals after some names were recorded: a name the graph has, a name an earlier placement
  /// of the same batch takes, an anchor that is not in the graph, a node of another graph.
  func testRefusedBatchLeavesEveryNameAsItWas() throws {
    for failure in 0..<4 {
      let (graph, x, relu) = try chain()
      let fresh = Node(opType: "Relu", name: "c", inputs: [x], outputNames: ["c_out"])
      let failing: Graph.Placement
      // Case 3's other graph, kept alive while the batch is refused (a graph that goes frees its nodes).
      let other = Graph(name: "other")
      switch failure {
      case 0:
        failing = Graph.Placement(reluNode(x, "r"), anchor: relu, after: true)
      case 1:
        failing = Graph.Placement(reluNode(x, "c_out"), anchor: relu, after: true)
      case 2:
        failing = Graph.Placement(reluNode(x, "e_out"), anchor: reluNode(x, "s"), after: true)
      default:
        let owned = Node(opType: "Relu", inputs: [x], outputNames: ["o_out"])
        try other.append(owned)
        failing = Graph.Placement(owned, anchor: relu, after: true)
      }
      XCTAssertThrowsError(try graph.insert([Graph.Placement(fresh, anchor: relu, after: true), failing]))
      XCTAssertNil(graph.value(named: "c_out"), "case \(failure): a refused batch defines nothing")
      XCTAssertNil(graph.value(named: "e_out"), "case \(failure)")
      XCTAssertTrue(graph.value(named: "r") === relu.output, "case \(failure): existing names keep their values")
      XCTAssertEqual(names(graph), ["a", "b"], "case \(failure)")
      XCTAssertNil(fresh.graph, "case \(failure)")
      // The names are free again: the same batch without the failing placement goes in.
      try graph.insert([Graph.Placement(fresh, anchor: relu, after: true)])
      XCTAssertTrue(graph.value(named: "c_out") === fresh.output, "case \(failure)")
      withExtendedLifetime(other) {}
    }
  }
}
