import Foundation
import XCTest

@testable import ONNXQAT

/// Buffers a run drops without releasing them through a slot go back to the pool
/// (`BufferPool.reclaim`): an observed run, whose fused Conv+Relu steps run node by node and drop
/// the Conv output, asks malloc only for its graph output once warmed up, and its outputs keep their
/// bits (exact: the same kernels on the same inputs); a buffer still held is left alone.
final class BufferPoolReclaimTests: XCTestCase {
  /// Two Conv+Relu chains (fused steps) on 1x4x32x32 (16 KiB per tensor, over the pool's 4 KiB).
  static let text = """
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 4, 32, 32] x) => (float[1, 4, 32, 32] y) {
      w = Constant<value = float[4, 4, 1, 1] {
        0.5, -0.25, 0.125, 1.0, -0.5, 0.75, 0.25, -1.0, 1.5, 0.5, -0.75, 0.25, 0.0, -0.5, 1.0, 0.5
      }>()
      c1 = Conv(x, w)
      r1 = Relu(c1)
      c2 = Conv(r1, w)
      r2 = Relu(c2)
      y = Add(r2, x)
    }
    """

  func testObservedFusedStepsStopMissingThePoolOnceWarmedUp() throws {
    let model = try RewriteTestSupport.model(Self.text)
    let input = HostTensor(.float, shape: [1, 4, 32, 32], values: (0..<4096).map { Float($0 % 13) - 6 })
    var plain = ExecutionOptions()
    plain.reusesBuffers = false
    let expected = try Interpreter(model: model, options: plain).run(["x": input])["y"]?.values(Float.self)
    let interpreter = try Interpreter(model: model)
    let pool = try XCTUnwrap(interpreter.bufferPool)
    var observed = 0
    interpreter.observer = { _, _ in observed += 1 }
    var misses: [Int] = []
    for _ in 0..<4 {
      let before = pool.missedCount
      let output = try interpreter.run(["x": input])["y"]?.values(Float.self)
      XCTAssertEqual(output?.map(\.bitPattern), expected?.map(\.bitPattern))
      misses.append(pool.missedCount - before)
    }
    XCTAssertEqual(observed, 4 * 7, "x, w, c1, r1, c2, r2, y in each run: the fused steps ran node by node")
    XCTAssertGreaterThan(misses[0], 1, "the first run finds the pool empty")
    // Once warmed up, only the graph output needs a new buffer (the caller keeps it).
    XCTAssertEqual(Array(misses.suffix(2)), [1, 1], "misses per run: \(misses)")
    XCTAssertGreaterThan(pool.reclaimedCount, 0, "the dropped Conv outputs came back")
  }

  func testABufferStillHeldIsNotReclaimed() {
    let pool = BufferPool(limit: 1 << 20)
    pool.give(TensorBuffer(byteCount: 8192))
    var held = pool.take(byteCount: 8192)
    XCTAssertNotNil(held)
    pool.reclaim(endOfRun: false)
    XCTAssertEqual(pool.pooledBytes, 0, "held: not reclaimed")
    held = nil
    pool.reclaim(endOfRun: false)
    XCTAssertEqual(pool.pooledBytes, 8192, "dropped: reclaimed")
    XCTAssertEqual(pool.reclaimedCount, 1)

    // At the end of a run the pool stops following what is still held (it is the holder's now).
    held = pool.take(byteCount: 8192)
    XCTAssertNotNil(held)
    pool.reclaim(endOfRun: true)
    held = nil
    pool.reclaim(endOfRun: false)
    XCTAssertEqual(pool.pooledBytes, 0)
    XCTAssertEqual(pool.reclaimedCount, 1)
  }
}
