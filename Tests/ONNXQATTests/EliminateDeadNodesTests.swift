import Foundation
import XCTest

@testable import ONNXQAT

/// EliminateDeadNodes: dead nodes (transitively, through subgraph captures) and unused
/// initializers go; graph outputs, overridable inputs and values a live subgraph captures stay.
final class EliminateDeadNodesTests: XCTestCase {
  private func eliminate(_ model: Model) throws -> (Model, RewriteLog, Bool) {
    let copy = try RewriteTestSupport.copy(model)
    let log = RewriteLog()
    let result = try EliminateDeadNodes().run(copy, log: log)
    return (copy, log, result.modified)
  }

  func testDeadChainAndUnusedInitializerGo() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x) => (float[2] y) <float[2] unused = {1, 2}, float[2] w = {3, 4}> {
        a = Relu (x)
        b = Neg (a)
        c = Mul (b, w)
        y = Abs (x)
      }
      """)
    let (after, log, modified) = try eliminate(model)
    XCTAssertTrue(modified)
    XCTAssertEqual(after.graph.nodes.map(\.opType), ["Abs"])
    XCTAssertEqual(after.graph.initializers.map(\.name), [])
    XCTAssertEqual(log.notes.map(\.message), ["removed 3 dead nodes", "removed 2 unused initializers"])
    try RewriteTestSupport.assertSameOutputs(model, after)
    try RewriteTestSupport.assertValidInOnnxAndOrt(after)
  }

  func testDeadNodeOfNonStandardDomainGoesWithANote() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13, "custom.domain" : 1]>
      g (float[2] x) => (float[2] y) {
        c = custom.domain.Thing (x)
        y = Abs (x)
      }
      """, check: false)
    let (after, log, _) = try eliminate(model)
    XCTAssertEqual(after.graph.nodes.map(\.opType), ["Abs"])
    XCTAssertEqual(log.notes.map(\.message), ["removed 1 dead node (1 of domain 'custom.domain')"])
    let inputs = RewriteTestSupport.randomInputs(model)
    let outputs = try Interpreter(model: after).run(inputs)
    let x = try XCTUnwrap(inputs["x"]).values(Float.self)
    XCTAssertEqual(outputs["y"]?.values(Float.self), x.map { abs($0) })
  }

  func testDeadNodeWithSubgraphReleasesItsCaptures() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x, bool c) => (float[2] y) <float[2] k = {1, 2}> {
        a = Neg (x)
        d = If (c) <then_branch = t () => (float[2] o) { o = Add (a, k) }, else_branch = e () => (float[2] o2) {
          o2 = Identity (a) }>
        y = Relu (x)
      }
      """)
    let (after, log, _) = try eliminate(model)
    XCTAssertEqual(after.graph.nodes.map(\.opType), ["Relu"])
    XCTAssertEqual(after.graph.initializers.count, 0)
    XCTAssertEqual(log.notes.first?.message, "removed 2 dead nodes")
    try RewriteTestSupport.assertSameOutputs(model, after)
    try RewriteTestSupport.assertValidInOnnxAndOrt(after)
  }

  func testIRVersion3DropsUnusedInitializerWithItsInput() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 3, opset_import: ["" : 9]>
      g (float[2] x, float[2] w, float[2] v) => (float[2] y) <float[2] w = {1, 2}, float[2] v = {3, 4}> {
        y = Add (x, w)
      }
      """, irVersion: 3)
    let (after, _, modified) = try eliminate(model)
    XCTAssertTrue(modified)
    XCTAssertEqual(after.graph.initializers.map(\.name), ["w"])
    XCTAssertEqual(after.graph.inputs.map(\.name), ["x", "w"])
    try RewriteTestSupport.assertSameOutputs(model, after)
    try RewriteTestSupport.assertValidInOnnxAndOrt(after)
  }

  // MARK: Must not fire

  func testLiveGraphOutputOverridableInputAndCapturesStay() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x, bool c, float[2] w) => (float[2] y, float[2] side) <float[2] w = {1, 2}> {
        a = Neg (x)
        side = Abs (x)
        u = If (c) <then_branch = t () => (float[2] o) { o = Identity (a) }, else_branch = e () => (float[2] o2) {
          o2 = Relu (a) }>
        y = Add (u, x)
      }
      """)
    let (after, log, modified) = try eliminate(model)
    XCTAssertFalse(modified)
    XCTAssertEqual(try ModelSaver.serialize(after), try ModelSaver.serialize(model))
    XCTAssertTrue(log.notes.isEmpty)
    for flag in [true, false] {
      var inputs = RewriteTestSupport.randomInputs(model)
      inputs["c"] = HostTensor(.bool, shape: [], values: [flag])
      try RewriteTestSupport.assertSameOutputs(model, after, inputs: inputs)
    }
  }

  func testTrainingInfoKeepsMainGraphInitializers() throws {
    let model = try ModelLoader.load(path: TestSupport.fixtures + "/training_info.onnx")
    XCTAssertFalse(model.trainingInfo.isEmpty)
    let unused = model.graph.initializers.filter { $0.uses.isEmpty }
    XCTAssertFalse(unused.isEmpty, "the fixture should hold an initializer only training uses")
    let (after, _, modified) = try eliminate(model)
    XCTAssertFalse(modified)
    XCTAssertEqual(after.graph.initializers.map(\.name), model.graph.initializers.map(\.name))
  }
}
