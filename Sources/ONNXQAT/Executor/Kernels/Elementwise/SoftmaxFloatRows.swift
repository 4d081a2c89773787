import Foundation

/// Float Softmax along a contiguous axis (the last one, as attention's is), with the
/// exponentials eight at a time: per row, `d = x - max`, `e = exp(d)` by `VectorExponential.exp`
/// (within a few units in the last place of libm's `expf`), or 0 where `d < -87` (libm's results
/// there are subnormal, below 1.2e-38, and e^-inf is 0, so masked positions give exactly 0), then
/// the sum of the `e` in element order and `e / sum`. The maximum, the NaN cases and the sum and
/// division are the scalar path's (`ElementwiseSoftmax`); a call into libm per element cost more
/// than the rest of the kernel.
enum SoftmaxFloatRows {
  /// Softmax of each of the `rows` rows of `n` floats of `x` into `y`, rows split over `threads`.
  static func run(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int, threads: Int) {
    ElementwiseSoftmax.split(outer: rows, elements: rows * n, threads: threads) { part in
      for row in part { softmax(x + row * n, y + row * n, n: n) }
    }
  }

  /// The softmax of the `n` floats at `x`, written to `y`.
  static func softmax(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int) {
    let maximum = ElementwiseSoftmax.maximum(x, base: 0, n: n, inner: 1).value
    for k in 0..<n { y[k] = x[k] - maximum }
    let underflow = VectorExponential.Lanes(repeating: -87)
    VectorExponential.apply(y, n) { d in VectorExponential.exp(d).replacing(with: 0, where: d .< underflow) }
    var sum: Float = 0
    for k in 0..<n { sum += y[k] }
    for k in 0..<n { y[k] /= sum }
  }
}
