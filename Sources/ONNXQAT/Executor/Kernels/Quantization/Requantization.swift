import Foundation

/// Requantizes int32 accumulators (plus int32 bias) to a narrow integer type, one multiplier per
/// output channel, in one of the two modes of `ExecutionOptions.Requantization` (DESIGN.md §4).
///
/// `float` reproduces onnxruntime's MLAS bit for bit (`MlasRequantizeOutput` in
/// onnxruntime/core/mlas/lib/quantize.cpp): `acc &+ bias` as int32, converted to Float (round to
/// nearest even), multiplied by the Float multiplier, clamped to `[qmin - zp, qmax - zp]`,
/// rounded half to even (`cvtps2dq`), plus the zero point. The multiplier is formed as
/// onnxruntime does in QLinearConv/QLinearMatMul: `Float(s_x) * Float(s_w[c]) / Float(s_y)`,
/// evaluated left to right in Float.
///
/// `fixed-point` follows TFLite's integer-only arithmetic: the Double multiplier
/// `s_x * s_w[c] / s_y` is split by frexp into a Q31 multiplier and a power-of-two shift
/// (QuantizeMultiplier); the accumulator is multiplied with SaturatingRoundingDoublingHighMul
/// (gemmlowp's nudge: ties toward +infinity) and divided by the shift with RoundingDivideByPOT
/// (ties away from zero), then offset and clamped. On random data the two modes differ by at
/// most 1 LSB, on about 0.05% of elements (QuantizationKernelTests prints the counts).
///
/// Note: onnxruntime's own u8 x s8 GEMM on AVX2 without VNNI saturates int16 sums of pairs of
/// products (vpmaddubsw) before this step; with int8 weights in [-64, 63] (its reduce_range)
/// that cannot happen and onnxruntime equals exact int32 accumulation.
struct Requantizer {
  let mode: ExecutionOptions.Requantization
  /// Float multipliers, one per channel (or one for all).
  let scales: [Float]
  /// Q31 multipliers and shifts (positive: left) for the fixed-point mode.
  let multipliers: [Int32]
  let shifts: [Int]
  let zeroPoint: Int32
  let minimum: Int32
  let maximum: Int32

  /// `inputScale * weightScales[c] / outputScale` per channel, for an output range `range`.
  init(
    mode: ExecutionOptions.Requantization, inputScale: Float, weightScales: [Float], outputScale: Float,
    zeroPoint: Int32, range: ClosedRange<Int32>
  ) {
    self.mode = mode
    scales = weightScales.map { inputScale * $0 / outputScale }
    var multipliers: [Int32] = []
    var shifts: [Int] = []
    for weightScale in weightScales {
      let real = Double(inputScale) * Double(weightScale) / Double(outputScale)
      let (multiplier, shift) = Self.quantizeMultiplier(real)
      multipliers.append(multiplier)
      shifts.append(shift)
    }
    self.multipliers = multipliers
    self.shifts = shifts
    self.zeroPoint = zeroPoint
    minimum = range.lowerBound
    maximum = range.upperBound
  }

  /// Explicit multipliers: `scales` as Float for the float mode (formed by the caller in
  /// onnxruntime's order), `realScales` as Double for the fixed-point mode.
  init(
    mode: ExecutionOptions.Requantization, scales: [Float], realScales: [Double], zeroPoint: Int32,
    range: ClosedRange<Int32>
  ) {
    self.mode = mode
    self.scales = scales
    let quantized = realScales.map { Self.quantizeMultiplier($0) }
    multipliers = quantized.map(\.0)
    shifts = quantized.map(\.1)
    self.zeroPoint = zeroPoint
    minimum = range.lowerBound
    maximum = range.upperBound
  }

  /// MLAS's QuantizeLinear of one Float (`MlasQuantizeLinear`, quantize.cpp): `x / scale`
  /// clamped to `[qmin - zp, qmax - zp]` (NaN becomes qmin - zp, as MAXPS returns its second
  /// operand), rounded half to even, plus the zero point.
  @inline(__always)
  static func mlasQuantize(_ x: Float, scale: Float, zeroPoint: Int32, range: ClosedRange<Int32>) -> Int32 {
    var value = x / scale
    let low = Float(range.lowerBound &- zeroPoint)
    let high = Float(range.upperBound &- zeroPoint)
    value = value.isNaN || value < low ? low : value
    value = value > high ? high : value
    return Int32(value.rounded(.toNearestOrEven)) &+ zeroPoint
  }

  /// TFLite's QuantizeMultiplier: `real = multiplier * 2^(shift - 31)` with the multiplier in
  /// [2^30, 2^31), rounded half away from zero.
  static func quantizeMultiplier(_ real: Double) -> (Int32, Int) {
    guard real > 0, real.isFinite else { return (0, 0) }
    let fraction = real.significand / 2  // in [0.5, 1)
    var shift = Int(real.exponent) + 1
    var q = (fraction * Double(1 << 31)).rounded(.toNearestOrAwayFromZero)
    if q == Double(1 << 31) {
      q /= 2
      shift += 1
    }
    if shift < -31 { return (0, 0) }
    if shift > 30 {
      shift = 30
      q = Double(Int32.max)
    }
    return (Int32(q), shift)
  }

  /// `round(a * b / 2^31)` with ties away from zero, saturating the single overflow case.
  @inline(__always)
  static func saturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
    if a == b && a == Int32.min { return Int32.max }
    let product = Int64(a) * Int64(b)
    let nudge: Int64 = product >= 0 ? (1 << 30) : (1 - (1 << 30))
    return Int32(truncatingIfNeeded: (product + nudge) / (1 << 31))
  }

  /// `x / 2^exponent` rounded half away from zero.
  @inline(__always)
  static func roundingDivideByPOT(_ x: Int32, _ exponent: Int) -> Int32 {
    guard exponent > 0 else { return x }
    let mask = Int32(truncatingIfNeeded: (Int64(1) << exponent) - 1)
    let remainder = x & mask
    let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
    return (x >> Int32(exponent)) + (remainder > threshold ? 1 : 0)
  }

  /// TFLite's MultiplyByQuantizedMultiplier.
  @inline(__always)
  static func multiplyByQuantizedMultiplier(_ x: Int32, _ multiplier: Int32, _ shift: Int) -> Int32 {
    let left = shift > 0 ? shift : 0
    let right = shift > 0 ? 0 : -shift
    let shifted = x &* Int32(truncatingIfNeeded: Int64(1) << left)
    return roundingDivideByPOT(saturatingRoundingDoublingHighMul(shifted, multiplier), right)
  }

  /// `x` clamped to `[low, high]` (NaN, from a zero or infinite scale, becomes `low`, as MAXPS
  /// returns its second operand) and rounded half to even.
  @inline(__always)
  static func clampRound(_ x: Float, _ low: Float, _ high: Float) -> Int32 {
    let clamped = x >= low ? (x > high ? high : x) : low
    return Int32(clamped.rounded(.toNearestOrEven))
  }

  /// Eight accumulators at once: `Float(acc) * scale` then `clampRound`, lane by lane the same
  /// operations (convert rounding to nearest even, one Float multiply, NaN to `low`) as the scalar
  /// path; the final round half to even is the Float addition of 1.5 * 2^23 (whose ulp is 1),
  /// exact for `low` and `high` within +-2^21, and the integer read from the sum's bits.
  @inline(__always)
  static func clampRound(_ accumulators: SIMD8<Int32>, _ scale: Float, _ low: Float, _ high: Float) -> SIMD8<Int32> {
    let lows = SIMD8<Float>(repeating: low)
    let highs = SIMD8<Float>(repeating: high)
    var x = SIMD8<Float>(accumulators) * SIMD8<Float>(repeating: scale)
    let inside = x .>= lows
    x.replace(with: highs, where: x .> highs)
    x.replace(with: lows, where: .!inside)
    let magic: Float = 12_582_912
    let sum = x + SIMD8<Float>(repeating: magic)
    let bits = unsafeBitCast(sum, to: SIMD8<Int32>.self)
    return bits &- SIMD8<Int32>(repeating: Int32(bitPattern: magic.bitPattern))
  }

  /// One accumulator requantized with channel `channel`'s multiplier.
  @inline(__always)
  func value(_ accumulator: Int32, channel: Int) -> Int32 {
    switch mode {
    case .float:
      return Self.clampRound(
        Float(accumulator) * scales[channel], Float(minimum &- zeroPoint), Float(maximum &- zeroPoint))
        &+ zeroPoint
    case .fixedPoint:
      let scaled = Self.multiplyByQuantizedMultiplier(accumulator, multipliers[channel], shifts[channel])
      let shifted = Int64(scaled) + Int64(zeroPoint)
      return Int32(Swift.min(Swift.max(shifted, Int64(minimum)), Int64(maximum)))
    }
  }

  /// Requantizes `count` accumulators that all belong to channel `channel` into `output` (the
  /// vector path of RequantizationVector for 8-bit outputs when it applies).
  func requantize<T: FixedWidthInteger & SIMDScalar>(
    _ accumulators: UnsafePointer<Int32>, count: Int, channel: Int, into output: UnsafeMutablePointer<T>
  ) {
    if requantizeVector(accumulators, count: count, channel: channel, bias: 0, into: output) { return }
    requantizeScalar(accumulators, count: count, channel: channel, into: output)
  }

  /// `requantize` without the C kernel: the Swift SIMD path (float mode) or `value` per element.
  func requantizeScalar<T: FixedWidthInteger & SIMDScalar>(
    _ accumulators: UnsafePointer<Int32>, count: Int, channel: Int, into output: UnsafeMutablePointer<T>
  ) {
    let channel = scales.count == 1 ? 0 : channel
    switch mode {
    case .float:
      let scale = scales[channel]
      let low = Float(minimum &- zeroPoint)
      let high = Float(maximum &- zeroPoint)
      var i = 0
      // The SIMD path rounds with the 1.5 * 2^23 trick, exact while values stay within +-2^21.
      let simd = low >= -2_097_152 && high <= 2_097_152
      while simd && i + 8 <= count {
        let values = Self.clampRound(
          UnsafeRawPointer(accumulators + i).loadUnaligned(as: SIMD8<Int32>.self), scale, low, high)
        UnsafeMutableRawPointer(output + i).storeBytes(
          of: SIMD8<T>(truncatingIfNeeded: values &+ zeroPoint), as: SIMD8<T>.self)
        i += 8
      }
      while i < count {
        output[i] = T(truncatingIfNeeded: Self.clampRound(Float(accumulators[i]) * scale, low, high) &+ zeroPoint)
        i += 1
      }
    case .fixedPoint:
      for i in 0..<count { output[i] = T(truncatingIfNeeded: value(accumulators[i], channel: channel)) }
    }
  }

  /// Requantizes `count` accumulators where element `i` belongs to channel `i` (per-column).
  func requantizeColumns<T: FixedWidthInteger & SIMDScalar>(
    _ accumulators: UnsafePointer<Int32>, count: Int, into output: UnsafeMutablePointer<T>
  ) {
    if scales.count == 1 {
      requantize(accumulators, count: count, channel: 0, into: output)
      return
    }
    for i in 0..<count { output[i] = T(truncatingIfNeeded: value(accumulators[i], channel: i)) }
  }
}
