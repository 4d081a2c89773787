import CIntegerKernels

/// The AVX2 path of `Requantizer` for 8-bit outputs: the C kernel `qat_requantize_int8`
/// (requantize_int8.c) runs either mode eight accumulators per instruction with the scalar path's
/// operations lane by lane (float: convert, one multiply, MAXPS/MINPS clamp with NaN to the lower
/// bound, round half to even, offset; fixed-point: TFLite's doubling high multiply and rounding
/// shift in 64-bit lanes), so it writes the same bytes as `Requantizer.value`.
///
/// Skip cases (the Swift path runs instead):
/// 1. the output is not int8 or uint8;
/// 2. the C kernel declines (no AVX2, its portable switch set, a range outside the output type, a
///    fixed-point multiplier or shift it does not take).
extension Requantizer {
  /// The C kernel's parameters for channel `channel` with int32 bias `bias`.
  func vectorParameters(channel: Int, bias: Int32) -> qat_requantization {
    let fixed = mode == .fixedPoint
    let index = scales.count == 1 ? 0 : channel
    return qat_requantization(
      fixed_point: fixed ? 1 : 0, scale: scales[index], multiplier: fixed ? multipliers[index] : 0,
      shift: fixed ? Int32(clamping: shifts[index]) : 0, bias: bias, zero_point: zeroPoint, minimum: minimum,
      maximum: maximum)
  }

  /// Requantizes `count` accumulators of channel `channel` plus `bias` (int32 wrap) into `output`
  /// through the C kernel; false (nothing written) in the skip cases.
  func requantizeVector<T: FixedWidthInteger>(
    _ accumulators: UnsafePointer<Int32>, count: Int, channel: Int, bias: Int32, into output: UnsafeMutablePointer<T>
  ) -> Bool {
    guard T.bitWidth == 8 else { return false }  // skip 1
    var parameters = vectorParameters(channel: channel, bias: bias)
    return qat_requantize_int8(accumulators, count, &parameters, T.isSigned ? 1 : 0, output) != 0  // skip 2
  }

  /// Requantizes `count` accumulators of channel `channel` plus `bias` into `output`: the vector
  /// path when it applies, else the bias added in place (int32 wrap) and the Swift path.
  func requantize<T: FixedWidthInteger & SIMDScalar>(
    _ accumulators: UnsafeMutablePointer<Int32>, count: Int, channel: Int, bias: Int32,
    into output: UnsafeMutablePointer<T>
  ) {
    if requantizeVector(accumulators, count: count, channel: channel, bias: bias, into: output) { return }
    if bias != 0 { for i in 0..<count { accumulators[i] = accumulators[i] &+ bias } }
    requantizeScalar(UnsafePointer(accumulators), count: count, channel: channel, into: output)
  }
}
