import Foundation

/// QuantizeLinear of a float tensor with one float scale and zero point to uint8 or int8 in a
/// loop without calls (which the compiler vectorizes), equal bit for bit to the general loop of
/// QuantizeLinearKernel: the same Float division `x / scale`, then the quotient clamped to `[qmin - zp, qmax - zp]` (NaN to the
/// lower bound), rounded half to even as the Float addition of 1.5 * 2^23 (exact inside those
/// bounds) and offset by `zp`. Rounding is monotonic and the bounds are integers, so clamping
/// before rounding gives the general loop's `clamp(round(x / scale) + zp)`.
extension QuantizeLinearKernel {
  static func quantizePerTensor<T: FixedWidthInteger>(
    _ x: UnsafePointer<Float>, count: Int, scale: Float, zeroPoint: Int32, into output: UnsafeMutablePointer<T>
  ) {
    let low = Float(Int32(T.min) &- zeroPoint)
    let high = Float(Int32(T.max) &- zeroPoint)
    let magic: Float = 12_582_912
    let magicBits = Int32(bitPattern: magic.bitPattern)
    // Plain per-element code without calls, which the compiler vectorizes.
    for i in 0..<count {
      let q = x[i] / scale
      let clamped = q >= low ? (q > high ? high : q) : low
      output[i] = T(truncatingIfNeeded: Int32(bitPattern: (clamped + magic).bitPattern) &- magicBits &+ zeroPoint)
    }
  }
}
