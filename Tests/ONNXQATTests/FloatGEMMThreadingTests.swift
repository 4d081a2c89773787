import Foundation
import XCTest

@testable import ONNXQAT

/// The threaded forms of the float kernels against their one-thread forms: the GEMM's split by
/// columns (A packed whole, each thread packing its own slivers of B), MatMul's batches of small
/// products handed to the threads whole, and Softmax's rows on threads. Every element is summed
/// in the same order on one thread and on two, so the results must be equal bit for bit; the
/// GEMM is also compared with a double-precision reference (relative tolerance 1e-5 of the sum of
/// absolute products: float32 rounding over at most 600 terms).
final class FloatGEMMThreadingTests: XCTestCase {
  /// Deterministic values in [-1, 1] from a sine hash (`seed` picks the sequence).
  private func values(_ count: Int, seed: Double) -> [Float] {
    (0..<count).map { index in
      let hash = sin(Double(index) * 12.9898 + seed * 78.233) * 43_758.5453
      return Float(2 * (hash - hash.rounded(.down)) - 1)
    }
  }

  /// C = alpha * A x B through `NeuralNetworkGEMM.multiply` on `threads` threads; B is read
  /// transposed (column stride `k`) when `transposedB`.
  private func product(
    _ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, alpha: Float, transposedB: Bool, threads: Int,
    packed: Bool = false
  ) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          guard let baseA = pa.baseAddress, let baseB = pb.baseAddress, let baseC = pc.baseAddress else { return }
          let matrixA = NeuralNetworkMatrix(baseA, rowStride: k)
          let matrixB =
            transposedB
            ? NeuralNetworkMatrix(baseB, rowStride: 1, columnStride: k) : NeuralNetworkMatrix(baseB, rowStride: n)
          NeuralNetworkGEMM.multiply(
            m: m, n: n, k: k, alpha: alpha, a: matrixA, b: matrixB, c: baseC, ldc: n, threads: threads,
            packed: packed ? NeuralNetworkPackedA(matrixA, m: m, k: k) : nil)
        }
      }
    }
    return c
  }

  func testColumnSplitOnTwoThreadsEqualsOneThreadAndTheReference() {
    // 19 slivers of 16 columns (the last one 12 wide), two K blocks of 300, 50 rows (a partial
    // tile of 2); then 130 rows (a block of `mc` = 120 rows and one of 10) by 100 columns. Both
    // take the column split: their A is under its limit.
    for (m, n, k) in [(50, 300, 600), (130, 100, 300)] {
      XCTAssertLessThanOrEqual(m * k, NeuralNetworkGEMM.columnSplitLimit)
      checkColumnSplit(m: m, n: n, k: k)
    }
  }

  /// The products of `testColumnSplitOnTwoThreadsEqualsOneThreadAndTheReference` for one shape.
  private func checkColumnSplit(m: Int, n: Int, k: Int) {
    let a = values(m * k, seed: 1)
    let b = values(k * n, seed: 2)
    for (alpha, transposedB, packed) in [(Float(1), false, false), (0.5, true, false), (1, false, true)] {
      let one = product(a, b, m: m, n: n, k: k, alpha: alpha, transposedB: transposedB, threads: 1, packed: packed)
      let two = product(a, b, m: m, n: n, k: k, alpha: alpha, transposedB: transposedB, threads: 2, packed: packed)
      XCTAssertEqual(one, two, "\(m)x\(n)x\(k): alpha \(alpha), transposed B \(transposedB), packed A \(packed)")
      var worst = 0.0
      // Every row, every seventh column (each sliver, the last partial one too): a debug build
      // spends seconds on the full double reference.
      for i in 0..<m {
        for j in stride(from: 0, to: n, by: 7) {
          var sum = 0.0
          var magnitude = 0.0
          for p in 0..<k {
            let term = Double(a[i * k + p]) * Double(transposedB ? b[j * k + p] : b[p * n + j])
            sum += term
            magnitude += abs(term)
          }
          worst = max(worst, abs(Double(two[i * n + j]) - Double(alpha) * sum) / max(magnitude, 1))
        }
      }
      XCTAssertLessThanOrEqual(worst, 1e-5, "\(m)x\(n)x\(k): alpha \(alpha), transposed B \(transposedB)")
    }
  }

  func testBatchedMatMulOfAttentionHeadsOnTwoThreadsEqualsOneThread() throws {
    // Four heads of 128 x 64 by 64 x 128: four small products, two per thread.
    let a = HostTensor(.float, shape: [1, 4, 128, 64], values: values(4 * 128 * 64, seed: 3))
    let b = HostTensor(.float, shape: [1, 4, 64, 128], values: values(4 * 64 * 128, seed: 4))
    var options = ExecutionOptions()
    options.threads = 1
    let one = try SingleNodeRun.run("MatMul", opset: 13, inputs: [a, b], options: options)[0]
    options.threads = 2
    let two = try SingleNodeRun.run("MatMul", opset: 13, inputs: [a, b], options: options)[0]
    XCTAssertEqual(two.shape, [1, 4, 128, 128])
    XCTAssertEqual(one.values(Float.self), two.values(Float.self))
    // Head 3, row 5, column 7 against its own dot product (float32 sum of 64 terms, 1e-5).
    let av = a.values(Float.self)
    let bv = b.values(Float.self)
    var expected = 0.0
    for p in 0..<64 {
      let left = Double(av[(3 * 128 + 5) * 64 + p])
      let right = Double(bv[(3 * 64 + p) * 128 + 7])
      expected += left * right
    }
    XCTAssertEqual(Double(two.values(Float.self)[(3 * 128 + 5) * 128 + 7]), expected, accuracy: 1e-5)
  }

  func testSoftmaxRowsOnTwoThreadsEqualOneThread() throws {
    let x = HostTensor(.float, shape: [4, 128, 128], values: values(4 * 128 * 128, seed: 5).map { $0 * 8 })
    var options = ExecutionOptions()
    options.threads = 1
    let one = try SingleNodeRun.run("Softmax", opset: 13, inputs: [x], options: options)[0]
    options.threads = 2
    let two = try SingleNodeRun.run("Softmax", opset: 13, inputs: [x], options: options)[0]
    let result = two.values(Float.self)
    XCTAssertEqual(one.values(Float.self), result)
    // Each row sums to 1 (float32 rounding over 128 terms: 1e-5).
    for row in 0..<(4 * 128) {
      XCTAssertEqual(result[(row * 128)..<((row + 1) * 128)].reduce(0, +), 1, accuracy: 1e-5, "row \(row)")
    }
  }
}
