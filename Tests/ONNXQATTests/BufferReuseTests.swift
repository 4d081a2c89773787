import Foundation
import XCTest

@testable import ONNXQAT

/// The interpreter's reuse of released intermediates' buffers (BufferPool): outputs equal bit for
/// bit with and without reuse (kernels fill every element of a reused, stale buffer), reuse
/// really happens, a graph output is never handed out again, a value with a later consumer is
/// not reused early, and values captured by Loop and If bodies stay intact while the bodies run.
/// Tensors here are at least 4 KiB (1024 floats), the pool's minimum. Expected values are exact
/// in float32 (small integers and halves), so they are compared exactly.
final class BufferReuseTests: XCTestCase {
  private func interpreter(_ model: Model, reuse: Bool) throws -> Interpreter {
    var options = ExecutionOptions()
    options.reusesBuffers = reuse
    return try Interpreter(model: model, options: options)
  }

  /// The bit patterns of a float tensor (so -0 and NaN payloads count).
  private func bits(_ tensor: HostTensor?) -> [UInt32] {
    (tensor?.values(Float.self) ?? []).map(\.bitPattern)
  }

  private func ramp(_ count: Int, _ transform: (Int) -> Float) -> HostTensor {
    HostTensor(.float, shape: [count], values: (0..<count).map(transform))
  }

  /// Runs `model` three times on `inputs` with and without reuse and asserts the same bits for
  /// every output each time; returns the reusing interpreter (for its pool's counters).
  @discardableResult
  private func assertSameBits(
    _ model: Model, _ inputs: [String: HostTensor], file: StaticString = #filePath, line: UInt = #line
  ) throws -> Interpreter {
    let fresh = try interpreter(model, reuse: false)
    let reusing = try interpreter(model, reuse: true)
    let expected = try fresh.run(inputs)
    for _ in 0..<3 {
      let actual = try reusing.run(inputs)
      XCTAssertEqual(Set(actual.keys), Set(expected.keys), file: file, line: line)
      for (name, tensor) in expected {
        XCTAssertEqual(actual[name]?.shape, tensor.shape, name, file: file, line: line)
        let (got, want) = (bits(actual[name]), bits(tensor))
        let first = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        XCTAssertTrue(
          got.count == want.count && first == nil, "output \(name) differs first at element \(first ?? -1)",
          file: file, line: line)
      }
    }
    XCTAssertNil(fresh.bufferPool)
    return reusing
  }

  func testPurposeBuiltModelsGiveTheSameBitsWithAndWithoutReuse() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let generate = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Benchmarks/executor_models.py", folder, "--small"])
    XCTAssertEqual(generate.status, 0, generate.stderr)
    var reused = 0
    for name in [
      "resnet_block", "mobilenet_block", "encoder_block", "lstm", "resnet_block_qdq", "resnet_block_qlinear",
      "mobilenet_block_qlinear",
    ] {
      let model = try ModelLoader.load(path: "\(folder)/\(name).onnx")
      let interpreter = try assertSameBits(model, RewriteTestSupport.randomInputs(model))
      reused += interpreter.bufferPool?.reusedCount ?? 0
    }
    XCTAssertGreaterThan(reused, 0, "no buffer was reused")
  }

  func testGraphOutputReadByLaterNodesIsNeverReused() throws {
    // y is a graph output that t reads; t, u and v are released intermediates of y's size, so a
    // pool that took y would hand its buffer to u, v or w and change y.
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1024] x) => (float[1024] y, float[1024] w) {
        y = Relu (x)
        t = Neg (y)
        u = Abs (t)
        v = Add (u, t)
        w = Sub (v, y)
      }
      """)
    let x = ramp(1024) { Float($0 % 7) - 3 }
    let reusing = try assertSameBits(model, ["x": x])
    let outputs = try reusing.run(["x": x])
    let relu = x.values(Float.self).map { max(0, $0) }
    XCTAssertEqual(outputs["y"]?.values(Float.self), relu)
    // t = -y, u = y, v = 0, w = -y.
    XCTAssertEqual(outputs["w"]?.values(Float.self), relu.map { 0 - $0 })
    XCTAssertFalse(outputs["y"]?.buffer === outputs["w"]?.buffer)
    XCTAssertGreaterThan(reusing.bufferPool?.reusedCount ?? 0, 0)
  }

  func testValueWithALaterConsumerIsNotReusedEarly() throws {
    // a is read by b and, three nodes later, by e: b and c are released before e runs, d takes
    // one of their buffers; a must still hold its values when e reads it.
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1024] x) => (float[1024] e) {
        a = Neg (x)
        b = Abs (a)
        c = Add (b, b)
        d = Relu (c)
        e = Add (a, d)
      }
      """)
    let x = ramp(1024) { Float($0 % 11) - 5 }
    let reusing = try assertSameBits(model, ["x": x])
    let expected = x.values(Float.self).map { value -> Float in
      let a = -value
      return a + max(0, abs(a) + abs(a))
    }
    XCTAssertEqual(try reusing.run(["x": x])["e"]?.values(Float.self), expected)
    XCTAssertGreaterThan(reusing.bufferPool?.reusedCount ?? 0, 0)
  }

  func testValuesCapturedByLoopAndIfBodiesStayIntact() throws {
    // s is captured by the Loop body and the If branches and released only after the If; the
    // bodies' intermediates (m, p, q) are released and reused on every iteration meanwhile.
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1024] x, bool c) => (float[1024] y, float[1024] z) <int64 n = {3}> {
        s = Add (x, x)
        y = Loop (n, , x) <
          body = b (int64 i, bool cond, float[1024] acc) => (bool cond_out, float[1024] acc_out) {
            cond_out = Identity (cond)
            m = Neg (acc)
            p = Abs (m)
            acc_out = Add (p, s)
          }
        >
        z = If (c) <
          then_branch = t () => (float[1024] o) {
            q = Neg (s)
            o = Sub (q, y)
          },
          else_branch = e () => (float[1024] o) { o = Add (s, y) }
        >
      }
      """)
    let x = ramp(1024) { Float($0 % 5) - 2 }
    for condition in [true, false] {
      let inputs = ["x": x, "c": HostTensor(.bool, shape: [], values: [condition])]
      let reusing = try assertSameBits(model, inputs)
      let outputs = try reusing.run(inputs)
      let xs = x.values(Float.self)
      var acc = xs
      for _ in 0..<3 { acc = zip(acc, xs).map { abs(-$0) + ($1 + $1) } }
      XCTAssertEqual(outputs["y"]?.values(Float.self), acc)
      let expected = zip(xs, acc).map { condition ? -($0 + $0) - $1 : ($0 + $0) + $1 }
      XCTAssertEqual(outputs["z"]?.values(Float.self), expected)
      XCTAssertGreaterThan(reusing.bufferPool?.reusedCount ?? 0, 0)
    }
  }

  func testPoolTakesTheSmallestBufferThatFitsUpToFourTimesTheRequest() {
    let pool = BufferPool(limit: 100_000)
    for size in [8192, 32768, 4096] { pool.give(TensorBuffer(byteCount: size)) }
    XCTAssertEqual(pool.pooledBytes, 8192 + 32768 + 4096)
    pool.give(TensorBuffer(byteCount: 100))  // under the minimum: not kept
    pool.give(TensorBuffer(byteCount: 200_000))  // over the limit: not kept
    XCTAssertEqual(pool.pooledBytes, 8192 + 32768 + 4096)
    XCTAssertNil(pool.take(byteCount: 1000), "requests under the minimum draw nothing")
    XCTAssertEqual(pool.take(byteCount: 5000)?.byteCount, 8192)
    XCTAssertNil(pool.take(byteCount: 40000), "no buffer that large")
    XCTAssertNil(pool.take(byteCount: 8000), "32768 is over four times 8000")
    XCTAssertEqual(pool.take(byteCount: 8192)?.byteCount, 32768)
    XCTAssertEqual(pool.take(byteCount: 4096)?.byteCount, 4096)
    XCTAssertEqual(pool.pooledBytes, 0)
    XCTAssertEqual(pool.reusedCount, 3)
  }

  func testFullPoolFreesSmallerBuffersForALargerOneOnly() {
    let pool = BufferPool(limit: 40000)
    for size in [8192, 16384, 16384] { pool.give(TensorBuffer(byteCount: size)) }
    XCTAssertEqual(pool.pooledBytes, 32768, "the 8192 buffer made room for the second 16384")
    pool.give(TensorBuffer(byteCount: 4096))
    XCTAssertEqual(pool.pooledBytes, 36864)
    // Freeing the 4096 buffer is not enough for 8192, and the 16384 ones are larger: dropped.
    pool.give(TensorBuffer(byteCount: 8192))
    XCTAssertEqual(pool.pooledBytes, 36864)
    XCTAssertEqual(pool.take(byteCount: 4096)?.byteCount, 4096)
  }

  func testPoolStaysWithinTheLargestLiveSet() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[4096] x) => (float[4096] y) {
        a = Neg (x)
        b = Abs (a)
        c = Relu (b)
        d = Neg (c)
        y = Abs (d)
      }
      """)
    let reusing = try interpreter(model, reuse: true)
    for _ in 0..<3 { _ = try reusing.run(["x": ramp(4096) { Float($0 % 3) }]) }
    let pool = try XCTUnwrap(reusing.bufferPool)
    // At most two 16 KiB tensors live at once (a node's input and output).
    XCTAssertLessThanOrEqual(pool.pooledBytes, pool.limit)
    XCTAssertLessThanOrEqual(pool.limit, 2 * 4096 * 4)
    XCTAssertGreaterThan(pool.reusedCount, 0)
  }
}
