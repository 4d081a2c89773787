import Foundation

/// Integer matrix products with 32-bit accumulation, and NumPy matmul shape rules for the
/// integer MatMul ops.
enum IntegerGemm {
  /// `c[m, n] = sum_k a[m, k] * b[k, n]` (row-major, all Int32, zero points already
  /// subtracted), wrapping on overflow as int32 hardware does. `c` is overwritten. Single-threaded
  /// tiled SIMD (IntegerGemmTiles).
  static func multiply(
    _ a: UnsafePointer<Int32>, _ b: UnsafePointer<Int32>, _ c: UnsafeMutablePointer<Int32>, m: Int, k: Int, n: Int
  ) {
    multiply(a, b, c, m: m, k: k, n: n, threads: 1)
  }

  /// The plain triple loop `multiply` must match bit for bit (kept for tests).
  static func referenceMultiply(
    _ a: UnsafePointer<Int32>, _ b: UnsafePointer<Int32>, _ c: UnsafeMutablePointer<Int32>, m: Int, k: Int, n: Int
  ) {
    c.update(repeating: 0, count: m * n)
    for row in 0..<m {
      let cRow = c + row * n
      let aRow = a + row * k
      for inner in 0..<k {
        let factor = aRow[inner]
        if factor == 0 { continue }
        let bRow = b + inner * n
        for column in 0..<n { cRow[column] = cRow[column] &+ factor &* bRow[column] }
      }
    }
  }

  /// Shapes of a batched matrix product after NumPy's rules (1-D operands promoted and their
  /// axis removed from the result).
  struct Shape {
    let m: Int
    let k: Int
    let n: Int
    let batch: [Int]
    let output: [Int]
    /// Flat offsets (in matrices) of each batch's A and B matrix.
    let aBatches: [Int]
    let bBatches: [Int]
  }

  static func shape(_ aShape: [Int], _ bShape: [Int], context: KernelContext) throws -> Shape {
    guard !aShape.isEmpty, !bShape.isEmpty else { throw context.failure("matmul operands must have rank >= 1") }
    let a = aShape.count == 1 ? [1] + aShape : aShape
    let b = bShape.count == 1 ? bShape + [1] : bShape
    let m = a[a.count - 2]
    let k = a[a.count - 1]
    let n = b[b.count - 1]
    guard b[b.count - 2] == k else {
      throw context.failure(
        "matmul shapes \(aShape) and \(bShape) do not match: inner dimensions \(k) and \(b[b.count - 2])")
    }
    let aBatch = Array(a.dropLast(2))
    let bBatch = Array(b.dropLast(2))
    let batch = try Broadcast.shape([aBatch, bBatch])
    var aBatches: [Int] = []
    var bBatches: [Int] = []
    Broadcast.forEach(batch, operands: [aBatch, bBatch]) { _, offsets in
      aBatches.append(offsets[0])
      bBatches.append(offsets[1])
    }
    if batch.isEmpty {
      aBatches = [0]
      bBatches = [0]
    }
    var output = batch
    if aShape.count > 1 { output.append(m) }
    if bShape.count > 1 { output.append(n) }
    return Shape(m: m, k: k, n: n, batch: batch, output: output, aBatches: aBatches, bBatches: bBatches)
  }
}
