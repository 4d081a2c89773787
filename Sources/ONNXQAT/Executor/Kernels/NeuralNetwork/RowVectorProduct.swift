import Foundation

/// `y[j] += sum_p x[p] * a[j, p]` for j in 0..<n: one row vector x (k long) times the transpose
/// of a row-major matrix a (n x k, row stride `lda`), the recurrent step `H * R^T` of RNN, GRU
/// and LSTM with batch 1, read straight from R (no transposed copy). Eight rows of a are taken
/// at a time, each with its own SIMD8 accumulator fed by the same eight elements of x, so eight
/// independent fused multiply-add chains keep the FMA units busy (one dot product at a time
/// would wait on its own results); the eight accumulators are then reduced together, halving
/// lanes three times.
///
/// Summation order of each output: the products of p = 8q + l are summed over q into lane l
/// (l = 0..<8), the lanes are added pairwise ((0+1) + (2+3)) + ((4+5) + (6+7)), the products
/// of the last k mod 8 elements are added in order, and the total is added to `y[j]`. The
/// order depends on neither the thread count nor n.
enum RowVectorProduct {
  typealias Lanes = SIMD8<Float>

  /// `sum += a * b`, fused where the build has FMA (`-D ONNXQAT_AVX2`); without it a fused
  /// multiply-add of SIMD vectors would be a library call per lane.
  @inline(__always)
  private static func add(_ sum: inout Lanes, _ a: Lanes, _ b: Lanes) {
    #if ONNXQAT_AVX2
      sum.addProduct(a, b)
    #else
      sum += a * b
    #endif
  }

  /// Adds lanes pairwise: lane i of the result is `a[2i] + a[2i+1]` for i < 4 and
  /// `b[2(i-4)] + b[2(i-4)+1]` for i >= 4.
  @inline(__always)
  private static func pairSums(_ a: Lanes, _ b: Lanes) -> Lanes {
    let both = SIMD16<Float>(lowHalf: a, highHalf: b)
    return both.evenHalf + both.oddHalf
  }

  /// `y[0..<n] += a[0..<n, 0..<k] * x` (a row-major with row stride `lda`).
  static func accumulate(
    _ x: UnsafePointer<Float>, _ a: UnsafePointer<Float>, lda: Int, k: Int, n: Int, into y: UnsafeMutablePointer<Float>
  ) {
    let body = k / 8 * 8
    let rawX = UnsafeRawPointer(x)
    var row = 0
    while row + 8 <= n {
      var s0 = Lanes(), s1 = Lanes(), s2 = Lanes(), s3 = Lanes()
      var s4 = Lanes(), s5 = Lanes(), s6 = Lanes(), s7 = Lanes()
      let base = UnsafeRawPointer(a + row * lda)
      let stride = lda * 4
      var p = 0
      while p < body {
        let factor = rawX.loadUnaligned(fromByteOffset: p * 4, as: Lanes.self)
        let at = base + p * 4
        add(&s0, factor, at.loadUnaligned(as: Lanes.self))
        add(&s1, factor, at.loadUnaligned(fromByteOffset: stride, as: Lanes.self))
        add(&s2, factor, at.loadUnaligned(fromByteOffset: 2 * stride, as: Lanes.self))
        add(&s3, factor, at.loadUnaligned(fromByteOffset: 3 * stride, as: Lanes.self))
        add(&s4, factor, at.loadUnaligned(fromByteOffset: 4 * stride, as: Lanes.self))
        add(&s5, factor, at.loadUnaligned(fromByteOffset: 5 * stride, as: Lanes.self))
        add(&s6, factor, at.loadUnaligned(fromByteOffset: 6 * stride, as: Lanes.self))
        add(&s7, factor, at.loadUnaligned(fromByteOffset: 7 * stride, as: Lanes.self))
        p += 8
      }
      // Three rounds of pairwise sums leave row r's total in lane r.
      let quarters = pairSums(pairSums(s0, s1), pairSums(s2, s3))
      let halves = pairSums(pairSums(s4, s5), pairSums(s6, s7))
      var totals = pairSums(quarters, halves)
      if body < k {
        for lane in 0..<8 {
          let source = a + (row + lane) * lda
          var tail = totals[lane]
          for q in body..<k { tail += x[q] * source[q] }
          totals[lane] = tail
        }
      }
      let target = UnsafeMutableRawPointer(y + row)
      target.storeBytes(of: target.loadUnaligned(as: Lanes.self) + totals, as: Lanes.self)
      row += 8
    }
    while row < n {
      let source = a + row * lda
      var lanes = Lanes()
      var p = 0
      while p < body {
        add(
          &lanes, rawX.loadUnaligned(fromByteOffset: p * 4, as: Lanes.self),
          UnsafeRawPointer(source + p).loadUnaligned(as: Lanes.self))
        p += 8
      }
      let quarter = pairSums(lanes, Lanes())
      let half = pairSums(quarter, Lanes())
      var total = pairSums(half, Lanes())[0]
      for q in body..<k { total += x[q] * source[q] }
      y[row] += total
      row += 1
    }
  }
}
