import Foundation

/// QLinearAdd in `float` mode on two 8-bit tensors of the same shape, read straight from the
/// tensors' bytes in a loop without calls (which the compiler vectorizes): the same Float
/// operations as the general loop of QLinearBinaryKernel (`(Float(a - za) * sa + Float(b - zb) * sb) / sc`, no fused
/// multiply-add), then the clamp to `[qmin - zc, qmax - zc]` (NaN to the lower bound, as
/// Requantizer.clampRound) and the round half to even as the Float addition of 1.5 * 2^23 (exact
/// inside those bounds), plus `zc`. Rounding before or after clamping to integer bounds gives the
/// same integer, so the result equals the scalar loop bit for bit.
extension QLinearBinaryKernel {
  static func addSameShape<T: FixedWidthInteger>(
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int, scales: (Float, Float, Float),
    zeroPoints: (Int32, Int32, Int32), range: ClosedRange<Int32>, into output: UnsafeMutablePointer<T>
  ) {
    let (sa, sb, sc) = scales
    let (za, zb, zc) = zeroPoints
    let low = Float(range.lowerBound &- zc)
    let high = Float(range.upperBound &- zc)
    let magic: Float = 12_582_912
    let magicBits = Int32(bitPattern: magic.bitPattern)
    // Plain per-element code without calls, which the compiler vectorizes.
    for i in 0..<count {
      let sum = Float(Int32(a[i]) &- za) * sa + Float(Int32(b[i]) &- zb) * sb
      let x = sum / sc
      let clamped = x >= low ? (x > high ? high : x) : low
      output[i] = T(truncatingIfNeeded: Int32(bitPattern: (clamped + magic).bitPattern) &- magicBits &+ zc)
    }
  }
}
