import Foundation
import XCTest

@testable import ONNXQAT

/// The rewrite engine itself: a rule set counts firings, records refusals with reasons, runs to
/// a fixed point, and a pipeline reports whether anything changed.
final class RewriteEngineTests: XCTestCase {
  /// Removes `Identity` nodes whose input is not a graph input; refuses when the output is a graph
  /// output (a stand-in rule for testing the engine).
  struct DropIdentity: RewriteRule {
    let name = "drop-identity"
    func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
      guard node.opType == "Identity", let input = node.input(0), let output = node.output else { return .noMatch }
      if graph.outputs.contains(where: { $0 === output }) {
        return .refused("output '\(output.name)' is a graph output")
      }
      return .rewrite { rewriter in
        try rewriter.replaceAllUses(of: output, with: input)
        try rewriter.removeIfUnused([node])
      }
    }
  }

  private let text = """
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2] x) => (float[2] y) {
      a = Identity(x)
      b = Identity(a)
      c = Relu(b)
      y = Identity(c)
    }
    """

  func testRuleSetFiresUntilFixedPointAndRecordsRefusals() throws {
    let model = try RewriteTestSupport.model(text)
    let before = try RewriteTestSupport.copy(model)
    let log = RewriteLog()
    let result = try RuleSet(name: "cleanup", rules: [DropIdentity()]).run(model, log: log)
    XCTAssertTrue(result.modified)
    XCTAssertEqual(log.count("drop-identity"), 2)
    XCTAssertEqual(model.graph.nodes.map(\.opType), ["Relu", "Identity"])
    XCTAssertEqual(log.refusals.count, 1)
    XCTAssertEqual(log.refusals.first?.reason, "output 'y' is a graph output")
    XCTAssertTrue(log.summary(explain: true).contains("not applied: drop-identity"))
    try RewriteTestSupport.assertSameOutputs(before, model)
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
  }

  func testPipelineReportsUnchangedModel() throws {
    let model = try RewriteTestSupport.model(text)
    let log = RewriteLog()
    let set = RuleSet(name: "cleanup", rules: [DropIdentity()])
    _ = try PassPipeline(name: "twice", passes: [set]).run(model, log: log)
    let second = try PassPipeline(name: "again", passes: [set]).run(model, log: log)
    XCTAssertFalse(second.modified)
    XCTAssertEqual(log.passes.map(\.modified), [true, false])
  }
}
