import Foundation
import XCTest

@testable import ONNXQAT

/// The packed-B cache of planned MatMul steps with a constant B (PackedMatMulWeights): runs
/// through it equal runs of a plan without it bit for bit (`multiplyPacked` sums in `multiply`'s
/// order), at 1 and 2 threads and over changing inputs; the cache keeps one packing per weight
/// tensor and none on a zero budget; a registry with its own MatMul kernel gets no packed step.
final class PackedMatMulWeightsTests: XCTestCase {
  override func tearDown() {
    GraphPlan.cachesPackedWeights = true
    super.tearDown()
  }

  /// x [2, 40, 64] times a constant B [64, 48]: a product the GEMM blocks (80 x 48 x 64).
  private func model() throws -> Model {
    let values: [Float] = (0..<(64 * 48)).map { (index: Int) -> Float in Float((index * 53) % 41 - 20) / 64 }
    let weights = values.map { String($0) }.joined(separator: ", ")
    return try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2, 40, 64] x) => (float[2, 40, 48] y) {
        w = Constant<value = float[64, 48] {\(weights)}>()
        y = MatMul(x, w)
      }
      """)
  }

  private func feed(seed: Int) -> [String: HostTensor] {
    let values: [Float] = (0..<(2 * 40 * 64)).map { (index: Int) -> Float in Float((index * seed) % 97) / 13 - 3 }
    return ["x": HostTensor(.float, shape: [2, 40, 64], values: values)]
  }

  /// `y` of runs of one interpreter over `feeds`, with the cache on or off.
  private func outputs(_ model: Model, cached: Bool, threads: Int, registry: KernelRegistry = .standard) throws
    -> [[Float]]
  {
    GraphPlan.cachesPackedWeights = cached
    defer { GraphPlan.cachesPackedWeights = true }
    var options = ExecutionOptions()
    options.threads = threads
    let interpreter = try Interpreter(model: model, options: options, registry: registry)
    return try [3, 7, 3, 11].map { seed in try interpreter.run(feed(seed: seed))["y"]?.values(Float.self) ?? [] }
  }

  func testCachedRunsEqualUncachedRuns() throws {
    XCTAssertTrue(NeuralNetworkGEMM.isBlocked(m: 80, n: 48, k: 64))
    let model = try model()
    for threads in [1, 2] {
      let cached = try outputs(model, cached: true, threads: threads)
      XCTAssertEqual(cached, try outputs(model, cached: false, threads: threads), "\(threads) threads")
      XCTAssertEqual(cached[0], cached[2])
      XCTAssertNotEqual(cached[0], cached[1])
      XCTAssertEqual(cached[0].count, 2 * 40 * 48)
    }
  }

  func testPackingIsKeptOnlyForTheSameWeights() {
    let first = HostTensor(.float, shape: [20, 30], values: (0..<600).map { Float($0 % 17) })
    let second = HostTensor(.float, shape: [20, 30], values: (0..<600).map { Float($0 % 19) })
    let cache = PackedMatMulWeights(budget: PackingBudget(bytes: 1 << 20))
    let kept = cache.packed(first, k: 20, n: 30)
    XCTAssertNotNil(kept)
    XCTAssertTrue(kept === cache.packed(first, k: 20, n: 30))
    let other = cache.packed(second, k: 20, n: 30)
    XCTAssertFalse(kept === other)
    // Row p, column j of B is at the layout's place.
    if let other {
      let layout = other.layout
      let nr = NeuralNetworkGEMM.nr
      for (p, j) in [(0, 0), (7, 29), (19, 16)] {
        XCTAssertEqual(
          other.values[layout.rowOffset(p) + j / nr * layout.sliverStride(p) + j % nr], Float((p * 30 + j) % 19))
      }
    }
    XCTAssertNil(PackedMatMulWeights(budget: PackingBudget(bytes: 0)).packed(first, k: 20, n: 30))
  }

  /// Only a MatMul with a constant B gets a packed step, and only with onnx-qat's own MatMul.
  func testOnlyBuiltInMatMulWithConstantBIsPacked() throws {
    let model = try model()
    let node = try XCTUnwrap(model.graph.nodes.last)
    XCTAssertNil(PackedMatMulWeights.kernel(for: node, budget: PackingBudget(bytes: 1 << 20)) { _ in false })
    XCTAssertNotNil(PackedMatMulWeights.kernel(for: node, budget: PackingBudget(bytes: 1 << 20)) { _ in true })
    // A registry given a MatMul kernel of its own plans no packed steps (its kernel would not run).
    var registry = KernelRegistry.standard
    XCTAssertTrue(registry.fusedOpsAreBuiltIn)
    registry.register("MatMul") { context in try MatMulKernel.run(context) }
    XCTAssertFalse(registry.fusedOpsAreBuiltIn)
  }
}
