import Foundation

/// QLinearAdd in `float` mode on two 8-bit tensors of the same shape, eight elements at a time,
/// read straight from the tensors' bytes: lane by lane the same Float operations as the scalar
/// loop of QLinearBinaryKernel (`(Float(a - za) * sa + Float(b - zb) * sb) / sc`, no fused
/// multiply-add), then the clamp to `[qmin - zc, qmax - zc]` (NaN to the lower bound, as
/// Requantizer.clampRound) and the round half to even as the Float addition of 1.5 * 2^23 (exact
/// inside those bounds), plus `zc`. Rounding before or after clamping to integer bounds gives the
/// same integer, so the result equals the scalar loop bit for bit.
extension QLinearBinaryKernel {
  static func addSameShape<T: FixedWidthInteger & SIMDScalar>(
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int, scales: (Float, Float, Float),
    zeroPoints: (Int32, Int32, Int32), range: ClosedRange<Int32>, into output: UnsafeMutablePointer<T>
  ) {
    let (sa, sb, sc) = scales
    let (za, zb, zc) = zeroPoints
    let low = Float(range.lowerBound &- zc)
    let high = Float(range.upperBound &- zc)
    let magic: Float = 12_582_912
    let magicBits = SIMD8<Int32>(repeating: Int32(bitPattern: magic.bitPattern))
    var i = 0
    while i + 8 <= count {
      let av = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<T>.self))
      let bv = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<T>.self))
      let sum = SIMD8<Float>(av &- za) * SIMD8(repeating: sa) + SIMD8<Float>(bv &- zb) * SIMD8(repeating: sb)
      var x = sum / SIMD8(repeating: sc)
      let inside = x .>= SIMD8(repeating: low)
      x.replace(with: high, where: x .> SIMD8(repeating: high))
      x.replace(with: low, where: .!inside)
      let rounded = unsafeBitCast(x + SIMD8(repeating: magic), to: SIMD8<Int32>.self) &- magicBits &+ zc
      UnsafeMutableRawPointer(output + i).storeBytes(of: SIMD8<T>(truncatingIfNeeded: rounded), as: SIMD8<T>.self)
      i += 8
    }
    while i < count {
      let sum = Float(Int32(a[i]) &- za) * sa + Float(Int32(b[i]) &- zb) * sb
      output[i] = T(truncatingIfNeeded: Requantizer.clampRound(sum / sc, low, high) &+ zc)
      i += 1
    }
  }
}
