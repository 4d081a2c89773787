import Foundation
import XCTest

@testable import ONNXQAT

/// ConstantCache: nodes computed only from initializers run once per Interpreter, later runs
/// reuse their outputs, the results equal a run without the cache bit for bit, the observer still
/// sees every node output on every run, and the skip cases (graph-input initializers, random ops,
/// the byte limit) recompute.
final class ExecutorConstantCacheTests: XCTestCase {
  /// A fake-quant graph: the weight's QuantizeLinear -> DequantizeLinear chain is constant, the
  /// activation's is not; `d` is an initializer that is also a graph input (IR 3 style).
  private func fakeQuantModel() throws -> Model {
    try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 17]>
      g (float[1,2,4,4] x, float[1] d) => (float[1,3,4,4] y)
        <float[3,2,1,1] w = {0.5, -0.25, 1.0, 0.75, -1.5, 0.125}, float ws = {0.01}, int8 wz = {0},
         float xs = {0.02}, uint8 xz = {128}, float[1] d = {0.5}> {
        wq = QuantizeLinear (w, ws, wz)
        wd = DequantizeLinear (wq, ws, wz)
        xq = QuantizeLinear (x, xs, xz)
        xd = DequantizeLinear (xq, xs, xz)
        dd = Add (d, d)
        c = Conv (xd, wd)
        y = Add (c, dd)
      }
      """)
  }

  /// Every output the observer saw in one run, by value name.
  private func observedRun(_ interpreter: Interpreter, _ inputs: [String: HostTensor]) throws -> (
    [String: HostTensor], [String: [Float]]
  ) {
    var seen: [String: [Float]] = [:]
    interpreter.observer = { value, tensor in seen[value.name] = tensor.doubles().map(Float.init) }
    return (try interpreter.run(inputs), seen)
  }

  func testCachedRunsEqualUncachedAndObserverSeesEveryOutput() throws {
    let model = try fakeQuantModel()
    let cache = ConstantCache(graph: model.graph, limit: 1 << 20)
    let constant = model.graph.nodes.filter { cache.isConstant($0) }.map { $0.outputs[0]?.name ?? "" }
    XCTAssertEqual(constant, ["wq", "wd"])  // not xq/xd (graph input) nor dd (d is a graph input)
    var plain = ExecutionOptions()
    plain.cachesConstants = false
    let reference = try Interpreter(model: model, options: plain)
    let cached = try Interpreter(model: model)
    for seed in [UInt64(1), 2, 3] {
      let inputs = RewriteTestSupport.randomInputs(model, seed: seed).filter { $0.key == "x" }
      let (expected, expectedSeen) = try observedRun(reference, inputs)
      let (actual, actualSeen) = try observedRun(cached, inputs)
      XCTAssertEqual(try XCTUnwrap(actual["y"]).values(Float.self), try XCTUnwrap(expected["y"]).values(Float.self))
      XCTAssertEqual(Set(actualSeen.keys), Set(["x", "wq", "wd", "xq", "xd", "dd", "c", "y"]))
      XCTAssertEqual(actualSeen, expectedSeen, "seed \(seed)")
    }
    // The graph-input initializer overridden by the caller is used, not a cached value.
    var inputs = RewriteTestSupport.randomInputs(model, seed: 4).filter { $0.key == "x" }
    inputs["d"] = HostTensor(.float, shape: [1], values: [Float(3)])
    let (expected, _) = try observedRun(reference, inputs)
    let (actual, _) = try observedRun(cached, inputs)
    XCTAssertEqual(try XCTUnwrap(actual["y"]).values(Float.self), try XCTUnwrap(expected["y"]).values(Float.self))
  }

  func testStoresOnlyWithinLimitAndOnlyConstantNodes() throws {
    let model = try fakeQuantModel()
    let nodes = model.graph.nodes
    let tiny = ConstantCache(graph: model.graph, limit: 3)
    let outputs: [HostTensor?] = [HostTensor(.int8, shape: [6], values: [Int8](repeating: 1, count: 6))]
    tiny.store(outputs, of: nodes[0])
    XCTAssertNil(tiny.outputs(of: nodes[0]), "6 bytes are over a 3-byte limit")
    let roomy = ConstantCache(graph: model.graph, limit: 6)
    roomy.store(outputs, of: nodes[0])
    XCTAssertNotNil(roomy.outputs(of: nodes[0]))
    roomy.store(outputs, of: nodes[2])
    XCTAssertNil(roomy.outputs(of: nodes[2]), "xq depends on the graph input x")
  }

  func testRandomOpsAreNotConstant() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 17]>
      g (float[2] x) => (float[2] y) {
        r = RandomUniform <shape = [2]> ()
        y = Add (x, r)
      }
      """)
    let cache = ConstantCache(graph: model.graph, limit: 1 << 20)
    XCTAssertFalse(cache.isConstant(model.graph.nodes[0]))
  }
}
