import Foundation

/// `y[0..<n] += sum_p x[p] * b[p, 0..<n]` for one row vector x (k long) and a row-major matrix b
/// (k x n, row stride `ldb`): the recurrent step of RNN, GRU and LSTM with batch 1, where the
/// general GEMM's dot products (one reduction per output) leave the FMA units waiting on their
/// own results. Here 64 outputs at a time stay in eight SIMD8 accumulators across all of k, each
/// `x[p]` broadcast once; each output's products are summed in the order p = 0, 1, ..., k-1,
/// then the total is added to `y`.
enum RowVectorProduct {
  /// `sum += a * b`, fused where the build has FMA (`-D ONNXQAT_AVX2`); without it a fused
  /// multiply-add of SIMD vectors would be a library call per lane.
  @inline(__always)
  private static func add(_ sum: inout SIMD8<Float>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) {
    #if ONNXQAT_AVX2
      sum.addProduct(a, b)
    #else
      sum += a * b
    #endif
  }

  static func accumulate(
    _ x: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, k: Int, n: Int, into y: UnsafeMutablePointer<Float>
  ) {
    typealias Lanes = SIMD8<Float>
    let raw = UnsafeRawPointer(b)
    var column = 0
    while column + 64 <= n {
      var s0 = Lanes(), s1 = Lanes(), s2 = Lanes(), s3 = Lanes()
      var s4 = Lanes(), s5 = Lanes(), s6 = Lanes(), s7 = Lanes()
      for p in 0..<k {
        let factor = Lanes(repeating: x[p])
        let row = raw + (p * ldb + column) * 4
        add(&s0, factor, row.loadUnaligned(as: Lanes.self))
        add(&s1, factor, row.loadUnaligned(fromByteOffset: 32, as: Lanes.self))
        add(&s2, factor, row.loadUnaligned(fromByteOffset: 64, as: Lanes.self))
        add(&s3, factor, row.loadUnaligned(fromByteOffset: 96, as: Lanes.self))
        add(&s4, factor, row.loadUnaligned(fromByteOffset: 128, as: Lanes.self))
        add(&s5, factor, row.loadUnaligned(fromByteOffset: 160, as: Lanes.self))
        add(&s6, factor, row.loadUnaligned(fromByteOffset: 192, as: Lanes.self))
        add(&s7, factor, row.loadUnaligned(fromByteOffset: 224, as: Lanes.self))
      }
      let target = UnsafeMutableRawPointer(y + column)
      for (index, sum) in [s0, s1, s2, s3, s4, s5, s6, s7].enumerated() {
        let offset = index * 32
        target.storeBytes(
          of: target.loadUnaligned(fromByteOffset: offset, as: Lanes.self) + sum, toByteOffset: offset, as: Lanes.self)
      }
      column += 64
    }
    while column < n {
      var sum: Float = 0
      for p in 0..<k { sum += x[p] * b[p * ldb + column] }
      y[column] += sum
      column += 1
    }
  }
}
