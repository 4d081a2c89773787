import Foundation

/// QuantizeLinear of a float tensor with one float scale and zero point to uint8 or int8, eight
/// elements at a time, equal bit for bit to the general loop of QuantizeLinearKernel: the same
/// Float division `x / scale`, then the quotient clamped to `[qmin - zp, qmax - zp]` (NaN to the
/// lower bound), rounded half to even as the Float addition of 1.5 * 2^23 (exact inside those
/// bounds) and offset by `zp`. Rounding is monotonic and the bounds are integers, so clamping
/// before rounding gives the general loop's `clamp(round(x / scale) + zp)`.
extension QuantizeLinearKernel {
  static func quantizePerTensor<T: FixedWidthInteger & SIMDScalar>(
    _ x: UnsafePointer<Float>, count: Int, scale: Float, zeroPoint: Int32, into output: UnsafeMutablePointer<T>
  ) {
    let low = Float(Int32(T.min) &- zeroPoint)
    let high = Float(Int32(T.max) &- zeroPoint)
    let magic: Float = 12_582_912
    let magicBits = SIMD8<Int32>(repeating: Int32(bitPattern: magic.bitPattern))
    var i = 0
    while i + 8 <= count {
      var q = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) / SIMD8(repeating: scale)
      let inside = q .>= SIMD8(repeating: low)
      q.replace(with: high, where: q .> SIMD8(repeating: high))
      q.replace(with: low, where: .!inside)
      let rounded = unsafeBitCast(q + SIMD8(repeating: magic), to: SIMD8<Int32>.self) &- magicBits &+ zeroPoint
      UnsafeMutableRawPointer(output + i).storeBytes(of: SIMD8<T>(truncatingIfNeeded: rounded), as: SIMD8<T>.self)
      i += 8
    }
    while i < count {
      output[i] = T(truncatingIfNeeded: Requantizer.clampRound(x[i] / scale, low, high) &+ zeroPoint)
      i += 1
    }
  }
}
