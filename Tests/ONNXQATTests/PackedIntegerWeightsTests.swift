import Foundation
import XCTest

@testable import ONNXQAT

/// The packed-weight cache of planned QLinearConv steps (PackedIntegerWeights): runs through the
/// cache equal runs of a plan without it byte for byte (exact integer arithmetic), at 1 and 2
/// threads, over several runs with changing inputs; a changed weight zero point (a graph input),
/// a weight initializer overridden by a graph input, and another weight tensor are packed afresh;
/// a zero budget keeps nothing and still gives the right packing; only QLinearConv steps with a
/// constant weight get a cache.
final class PackedIntegerWeightsTests: XCTestCase {
  override func tearDown() {
    GraphPlan.cachesPackedWeights = true
    super.tearDown()
  }

  private func weights(_ count: Int, seed: UInt64) -> [Int8] { QLinearConvTestModels.weights(count, seed: seed) }

  private func model(group: Int = 1, weightInput: Bool = false) throws -> Model {
    try QLinearConvTestModels.model(group: group, weightInput: weightInput)
  }

  private func inputs(_ model: Model, seed: UInt64, zeroPoint: Int8) -> [String: HostTensor] {
    QLinearConvTestModels.inputs(model, seed: seed, zeroPoint: zeroPoint)
  }

  /// `y` of runs of one interpreter over `feeds` in order, with the cache on or off.
  private func outputs(_ model: Model, _ feeds: [[String: HostTensor]], cached: Bool, threads: Int) throws
    -> [[UInt8]]
  {
    GraphPlan.cachesPackedWeights = cached
    defer { GraphPlan.cachesPackedWeights = true }
    return try QLinearConvTestModels.outputs(model, feeds, threads: threads)
  }

  func testCachedRunsEqualUncachedRunsAcrossChangingInputsAndZeroPoints() throws {
    for group in [1, 2] {
      let model = try model(group: group)
      let feeds = [
        inputs(model, seed: 1, zeroPoint: 0), inputs(model, seed: 2, zeroPoint: 0),
        inputs(model, seed: 2, zeroPoint: 3),
        inputs(model, seed: 3, zeroPoint: -4), inputs(model, seed: 1, zeroPoint: 0),
      ]
      for threads in [1, 2] {
        let cached = try outputs(model, feeds, cached: true, threads: threads)
        let uncached = try outputs(model, feeds, cached: false, threads: threads)
        XCTAssertEqual(cached, uncached, "group \(group), \(threads) threads")
        XCTAssertNotEqual(cached[1], cached[2], "the zero point changes the output")
        XCTAssertEqual(cached[0], cached[4], "back to the first inputs")
      }
    }
  }

  /// A weight initializer that is also a graph input gets no cache: a run given other weights
  /// uses them.
  func testWeightsOverriddenByAGraphInputAreUsed() throws {
    let model = try model(weightInput: true)
    var feeds = [inputs(model, seed: 1, zeroPoint: 0), inputs(model, seed: 1, zeroPoint: 0)]
    feeds[1]["w"] = HostTensor(.int8, shape: [24, 16, 3, 3], values: weights(24 * 16 * 9, seed: 99))
    feeds.append(feeds[0])
    let cached = try outputs(model, feeds, cached: true, threads: 2)
    XCTAssertEqual(cached, try outputs(model, feeds, cached: false, threads: 2))
    XCTAssertNotEqual(cached[0], cached[1])
    XCTAssertEqual(cached[0], cached[2])
    let node = try XCTUnwrap(model.graph.nodes.first)
    XCTAssertNil(PackedIntegerWeights.kernel(for: node, budget: PackingBudget(bytes: 1 << 20)) { _ in false })
    XCTAssertNotNil(PackedIntegerWeights.kernel(for: node, budget: PackingBudget(bytes: 1 << 20)) { _ in true })
  }

  /// The cache returns the kept packing for the same tensor and zero points, a fresh one (equal to
  /// packing without a cache) for another tensor or other zero points, and keeps nothing on a
  /// zero budget.
  func testPackingIsKeptOnlyForTheSameWeights() {
    let first = HostTensor(.int8, shape: [8, 2, 3, 3], values: weights(144, seed: 5))
    let second = HostTensor(.int8, shape: [8, 2, 3, 3], values: weights(144, seed: 6))
    let cache = PackedIntegerWeights(budget: PackingBudget(bytes: 1 << 20))
    let kept = cache.packed(first, wZero: [0], group: 0, groups: 1, m: 8, k: 18)
    XCTAssertTrue(kept === cache.packed(first, wZero: [0], group: 0, groups: 1, m: 8, k: 18))
    for (tensor, zero) in [(second, Int32(0)), (first, 2), (first, 0)] {
      let packing = cache.packed(tensor, wZero: [zero], group: 0, groups: 1, m: 8, k: 18)
      let fresh = PackedIntegerWeights.pack(tensor, wZero: [zero], group: 0, m: 8, k: 18)
      XCTAssertFalse(packing === kept)
      XCTAssertEqual(packing.packed, fresh.packed)
      XCTAssertEqual(packing.rowSums, fresh.rowSums)
      XCTAssertTrue(packing.fits)
    }
    XCTAssertNotEqual(
      cache.packed(second, wZero: [0], group: 0, groups: 1, m: 8, k: 18).rowSums,
      cache.packed(first, wZero: [0], group: 0, groups: 1, m: 8, k: 18).rowSums)
    let unbudgeted = PackedIntegerWeights(budget: PackingBudget(bytes: 0))
    let once = unbudgeted.packed(first, wZero: [0], group: 0, groups: 1, m: 8, k: 18)
    let twice = unbudgeted.packed(first, wZero: [0], group: 0, groups: 1, m: 8, k: 18)
    XCTAssertFalse(once === twice)
    XCTAssertEqual(once.packed, twice.packed)
  }
}
