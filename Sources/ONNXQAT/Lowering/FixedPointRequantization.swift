import Foundation

/// Builds TFLite's integer-only requantization of an int32 accumulator out of ai.onnx integer
/// ops (Cast, Mul, Add, BitShift, Less, Where, Clip): the graph an integer-only runtime runs,
/// equal bit for bit to the executor's `fixed-point` mode (Requantizer).
///
/// Maths, per channel `c`, with `(M, shift) = QuantizeMultiplier(real[c])` computed here in Swift
/// (M a Q31 multiplier in [2^30, 2^31), `l = max(shift, 0)`, `e = max(-shift, 0)`):
/// 1. `p = acc * (M << l)` in int64 (TFLite's `acc << l` then `* M`; equal unless `acc << l`
///    overflows int32, where TFLite wraps).
/// 2. SaturatingRoundingDoublingHighMul is `trunc((p + nudge) / 2^31)` with `nudge = 2^30` for
///    `p >= 0` and `1 - 2^30` otherwise, which equals `v = floor((p + 2^30) / 2^31)` for every
///    `p` (ties go toward +infinity either way; M > 0 rules out its one saturating case).
///    BitShift is unsigned only, so the floor is taken on `p + 2^30 + 2^62` (non-negative and
///    below 2^63 since `|p| < 2^62`), cast to uint64, shifted right by 31: `w = v + 2^31`.
/// 3. RoundingDivideByPOT (ties away from zero) is `floor((v + h - [v < 0]) / 2^e)` with
///    `h = 2^(e-1)` (both terms 0 when `e = 0`); `v < 0` is `w < 2^31`, and the floor is taken
///    on `w + (h - [v < 0]) + 2^31 = v + ... + 2^32` (non-negative, below 2^34), shifted right by
///    `e`, minus `2^32 >> e`.
/// 4. Plus the output zero point, clamped to the type's range (intersected with the bounds of
///    an absorbed Relu/Clip), cast to the 8-bit type.
/// ```
/// before: acc: int32[N,C,H,W] (ConvInteger + int32 bias)
/// after:  a = Cast<to=INT64>(acc)   p = Mul(a, m)   y = Add(p, k)   yu = Cast<to=UINT64>(y)
///         vu = BitShift<direction="RIGHT">(yu, s31)   w = Cast<to=INT64>(vu)   n = Less(w, t)
///         r = Where(n, hneg, hpos)   z = Add(w, r)   zu = Cast<to=UINT64>(z)
///         qu = BitShift<direction="RIGHT">(zu, e)   q = Cast<to=INT64>(qu)   o = Add(q, zp)
///         c = Clip(o, lo, hi)   y_q = Cast<to=UINT8>(c)
/// ```
/// Constants `m`, `hneg`, `hpos`, `e`, `zp` hold one value per channel, shaped to broadcast along
/// the channel axis (`channelShape`), or are scalars when every channel has the same multiplier.
enum FixedPointRequantization {
  /// The per-channel integer constants of step 1-4, as Swift computes them at lowering time.
  struct Constants: Equatable {
    var multipliers: [Int64]
    var rightShifts: [Int64]
    var roundingPositive: [Int64]
    var roundingNegative: [Int64]
    var offsets: [Int64]

    init(realScales: [Double], zeroPoint: Int32) {
      var multipliers: [Int64] = []
      var rightShifts: [Int64] = []
      for real in realScales {
        let (multiplier, shift) = Requantizer.quantizeMultiplier(real)
        multipliers.append(Int64(multiplier) << Int64(max(shift, 0)))
        rightShifts.append(Int64(max(-shift, 0)))
      }
      self.multipliers = multipliers
      self.rightShifts = rightShifts
      let halves = rightShifts.map { $0 > 0 ? Int64(1) << ($0 - 1) : 0 }
      roundingPositive = halves.map { $0 + twoTo31 }
      roundingNegative = zip(halves, rightShifts).map { $0 - ($1 > 0 ? 1 : 0) + twoTo31 }
      offsets = rightShifts.map { Int64(zeroPoint) - ((Int64(1) << 32) >> $0) }
    }

    /// The same computation on one accumulator in Swift, step by step as the graph does it.
    func apply(_ accumulator: Int32, channel: Int, range: ClosedRange<Int32>) -> Int32 {
      let c = multipliers.count == 1 ? 0 : channel
      let p = Int64(accumulator) * multipliers[c]
      let w = Int64(UInt64(p + FixedPointRequantization.highMulOffset) >> 31)
      let z = w + (w < twoTo31 ? roundingNegative[c] : roundingPositive[c])
      let q = Int64(UInt64(z) >> UInt64(rightShifts[c])) + offsets[c]
      return Int32(min(max(q, Int64(range.lowerBound)), Int64(range.upperBound)))
    }
  }

  static let twoTo31: Int64 = 1 << 31
  /// `2^30` (the rounding nudge) plus `2^62` (the offset that makes the product non-negative).
  static let highMulOffset: Int64 = (1 << 62) + (1 << 30)

  /// Appends the requantization of `accumulator` (int32) to `type` and returns its 8-bit output.
  /// `realScales` are `s_x * s_w[c] / s_y` in Double (one, or one per channel); `channelShape`
  /// is the shape a per-channel constant takes to broadcast over the accumulator (`[C, 1, 1]`
  /// for NCHW, `[N]` for a matrix product's columns); `bounds` narrows the clamp.
  static func build(
    _ accumulator: Value, realScales: [Double], zeroPoint: Int32, type: DataType, bounds: (Int32, Int32)?,
    channelShape: [Int], name: String, rewriter: Rewriter
  ) throws -> Value {
    guard let range = QuantizedValues.range(type) else {
      throw ONNXQATError.badArgument("requantization of '\(accumulator.name)' to \(type.name): not an 8-bit type")
    }
    let uniform = Set(realScales).count == 1
    let constants = Constants(realScales: uniform ? [realScales[0]] : realScales, zeroPoint: zeroPoint)
    let shape = uniform ? [] : channelShape
    let base = accumulator.name
    func constant(_ suffix: String, _ values: [Int64], _ dataType: DataType = .int64, scalar: Bool = false)
      throws -> Value
    {
      let tensor =
        dataType == .uint64
        ? HostTensor(.uint64, shape: scalar ? [] : shape, values: values.map { UInt64($0) })
        : HostTensor(.int64, shape: scalar ? [] : shape, values: values)
      return try rewriter.addConstant(base + "_" + suffix, tensor.irTensor(name: nil))
    }
    var step = 0
    func node(_ opType: String, _ inputs: [Value], _ attributes: [Attribute] = []) throws -> Value {
      step += 1
      let created = try rewriter.insertNode(
        opType, name: name.isEmpty ? "" : "\(name)_requant\(step)", inputs: inputs,
        outputBases: ["\(base)_rq\(step)"], attributes: attributes)
      guard let output = created.output else {
        throw ONNXQATError.badArgument("requantization of '\(base)': \(opType) made no output")
      }
      return output
    }
    let right = [Attribute.string("direction", "RIGHT")]
    let wide = try node("Cast", [accumulator], [.int("to", Int64(DataType.int64.rawValue))])
    let product = try node("Mul", [wide, try constant("multiplier", constants.multipliers)])
    let nudged = try node("Add", [product, try constant("high_mul_offset", [highMulOffset], scalar: true)])
    let unsigned = try node("Cast", [nudged], [.int("to", Int64(DataType.uint64.rawValue))])
    let high = try node("BitShift", [unsigned, try constant("shift31", [31], .uint64, scalar: true)], right)
    let w = try node("Cast", [high], [.int("to", Int64(DataType.int64.rawValue))])
    let negative = try node("Less", [w, try constant("sign_threshold", [twoTo31], scalar: true)])
    let rounding = try node(
      "Where",
      [
        negative, try constant("rounding_negative", constants.roundingNegative),
        try constant("rounding_positive", constants.roundingPositive),
      ])
    let rounded = try node("Add", [w, rounding])
    let roundedUnsigned = try node("Cast", [rounded], [.int("to", Int64(DataType.uint64.rawValue))])
    let shifted = try node("BitShift", [roundedUnsigned, try constant("right_shift", constants.rightShifts, .uint64)], right)
    let signed = try node("Cast", [shifted], [.int("to", Int64(DataType.int64.rawValue))])
    let offset = try node("Add", [signed, try constant("zero_point_offset", constants.offsets)])
    let low = max(range.lowerBound, bounds?.0 ?? range.lowerBound)
    let highBound = min(range.upperBound, bounds?.1 ?? range.upperBound)
    let clipped = try node(
      "Clip",
      [offset, try constant("min", [Int64(low)], scalar: true), try constant("max", [Int64(highBound)], scalar: true)])
    return try node("Cast", [clipped], [.int("to", Int64(type.rawValue))])
  }
}
