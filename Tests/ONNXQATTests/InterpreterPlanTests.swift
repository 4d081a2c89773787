import Foundation
import XCTest

@testable import ONNXQAT

/// The Interpreter's per-graph plans (GraphPlan): slots instead of dictionaries must keep every
/// look-up rule of the unplanned interpreter. Subgraphs read values of the enclosing graph
/// (computed ones and initializers), including ones whose last use is the node holding the
/// subgraph; function bodies are planned once but resolve `ref_attr_name` per call; an
/// initializer that is also a graph input is overridden when given; a graph output that a later
/// node also reads is not released; a missing kernel fails when the node runs. Every expected
/// value is exact in float32 (small integers and halves), so outputs are compared exactly.
final class InterpreterPlanTests: XCTestCase {
  private func floats(_ tensor: HostTensor?) -> [Float] { tensor?.values(Float.self) ?? [] }

  private func input(_ values: [Float]) -> HostTensor { HostTensor(.float, shape: [values.count], values: values) }

  func testIfBranchesReadComputedValuesAndInitializersOfTheEnclosingGraph() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x, bool c) => (float[2] y, float[2] z) <float[2] k = {10, 20}> {
        a = Add (x, x)
        y = If (c) <
          then_branch = t () => (float[2] o) { o = Add (a, k) },
          else_branch = e () => (float[2] o) { o = Sub (a, k) }
        >
        z = Mul (a, k)
      }
      """)
    let interpreter = try Interpreter(model: model)
    for (condition, expected) in [(true, [12, 26] as [Float]), (false, [-8, -14])] {
      let outputs = try interpreter.run(["x": input([1, 3]), "c": HostTensor(.bool, shape: [], values: [condition])])
      XCTAssertEqual(floats(outputs["y"]), expected)
      XCTAssertEqual(floats(outputs["z"]), [20, 120])
    }
  }

  func testLoopBodyReadsAnOuterValueOnEveryIteration() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1] x) => (float[1] y) <int64 n = {3}> {
        step = Add (x, x)
        y = Loop (n, , x) <
          body = b (int64 i, bool cond, float[1] acc) => (bool cond_out, float[1] acc_out) {
            cond_out = Identity (cond)
            acc_out = Add (acc, step)
          }
        >
      }
      """)
    let outputs = try Interpreter(model: model).run(["x": input([1.5])])
    // acc = 1.5 + 3 * (1.5 + 1.5)
    XCTAssertEqual(floats(outputs["y"]), [10.5])
  }

  func testFunctionAttributeReferencesResolvePerCall() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13, "local" : 1]>
      g (float[3] x) => (float[3] y, float[3] z) {
        y = local.Leak <slope = 0.5> (x)
        z = local.Leak <slope = 0.25> (x)
      }
      <domain: "local", opset_import: ["" : 13]>
      Leak <slope> (a) => (b) {
        b = LeakyRelu <alpha: float = @slope> (a)
      }
      """, check: false)
    let outputs = try Interpreter(model: model).run(["x": input([-2, 1, -4])])
    XCTAssertEqual(floats(outputs["y"]), [-1, 1, -2])
    XCTAssertEqual(floats(outputs["z"]), [-0.5, 1, -1])
  }

  func testInitializerInputIsOverriddenOnlyWhenGiven() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x, float[2] d) => (float[2] y) <float[2] d = {1, 2}> {
        y = Add (x, d)
      }
      """)
    let interpreter = try Interpreter(model: model)
    XCTAssertEqual(floats(try interpreter.run(["x": input([1, 1])])["y"]), [2, 3])
    XCTAssertEqual(floats(try interpreter.run(["x": input([1, 1]), "d": input([5, 6])])["y"]), [6, 7])
    XCTAssertEqual(floats(try interpreter.run(["x": input([1, 1])])["y"]), [2, 3])
  }

  func testGraphOutputReadByALaterNodeIsKeptAndObserverSeesEachOutputOnce() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x) => (float[2] a, float[2] c) {
        a = Add (x, x)
        b = Mul (a, a)
        c = Sub (b, a)
      }
      """)
    let interpreter = try Interpreter(model: model)
    var seen: [String] = []
    interpreter.observer = { value, _ in seen.append(value.name) }
    for _ in 0..<2 {
      seen = []
      let outputs = try interpreter.run(["x": input([1, 2])])
      XCTAssertEqual(floats(outputs["a"]), [2, 4])
      XCTAssertEqual(floats(outputs["c"]), [2, 12])
      XCTAssertEqual(seen, ["x", "a", "b", "c"])
    }
  }

  func testMissingKernelFailsWhenTheNodeRuns() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13, "nowhere" : 1]>
      g (float[2] x) => (float[2] y) {
        y = nowhere.Mystery (x)
      }
      """, check: false)
    XCTAssertThrowsError(try Interpreter(model: model))
    let interpreter = try Interpreter(model: model, checkingKernels: false)
    XCTAssertThrowsError(try interpreter.run(["x": input([1, 2])])) { error in
      XCTAssertTrue("\(error)".contains("no kernel for Mystery at opset 1"), "\(error)")
    }
  }
}
