import Foundation

/// Builds TFLite's integer-only requantization of an int32 accumulator out of ai.onnx integer
/// ops (Cast, Mul, Add, BitShift, Less, Where, Clip): the graph an integer-only runtime runs,
/// equal bit for bit to the executor's `fixed-point` mode (Requantizer).
///
/// Maths, per channel `c`, with `(M, shift) = QuantizeMultiplier(real[c])` computed here in Swift
/// (M a Q31 multiplier in [2^30, 2^31), `l = max(shift, 0)`, `e = max(-shift, 0)`), for an
/// integer input `x` (an int32 accumulator, or 8-bit values whose zero point `x_zp` is folded in):
/// 1. `p = (x - x_zp) * (M << (l + pre))` in int64 (TFLite's `x << l` then `* M`; equal unless
///    `x << l` overflows int32, where TFLite wraps; `pre` is an extra left shift, 20 for Add).
/// 2. SaturatingRoundingDoublingHighMul is `trunc((p + nudge) / 2^31)` with `nudge = 2^30` for
///    `p >= 0` and `1 - 2^30` otherwise, which equals `v = floor((p + 2^30) / 2^31)` for every
///    `p` (ties go toward +infinity either way; M > 0 rules out its one saturating case).
///    BitShift is unsigned only, so the floor is taken on `x * m + k` with
///    `k = 2^62 + 2^30 - x_zp * m` (non-negative and below 2^63 since `|p| < 2^62`), cast to
///    uint64 and shifted right by 31: `w = v + 2^31`.
/// 3. RoundingDivideByPOT (ties away from zero) is `floor((v + h - [v < 0]) / 2^e)` with
///    `h = 2^(e-1)` (both terms 0 when `e = 0`); `v < 0` is `w < 2^31`, and the floor is taken
///    on `w + (h - [v < 0]) + 2^31 = v + ... + 2^32` (non-negative, below 2^34), shifted right by
///    `e`; then `2^32 >> e` is taken off and the addend (the output zero point) added, in one Add.
/// 4. Clamped to the type's range (intersected with the bounds of an absorbed Relu/Clip) and
///    cast to the 8-bit type.
/// ```
/// before: acc: int32[N,C,H,W] (ConvInteger + int32 bias)
/// after:  a = Cast<to=INT64>(acc)   p = Mul(a, m)   y = Add(p, k)   yu = Cast<to=UINT64>(y)
///         vu = BitShift<direction="RIGHT">(yu, s31)   w = Cast<to=INT64>(vu)   n = Less(w, t)
///         r = Where(n, hneg, hpos)   z = Add(w, r)   zu = Cast<to=UINT64>(z)
///         qu = BitShift<direction="RIGHT">(zu, e)   q = Cast<to=INT64>(qu)   o = Add(q, offset)
///         c = Clip(o, lo, hi)   y_q = Cast<to=UINT8>(c)
/// ```
/// Constants `m`, `k`, `hneg`, `hpos`, `e`, `offset` hold one value per channel, shaped to
/// broadcast along the channel axis (`channelShape`), or are scalars when every channel has the
/// same multiplier.
enum FixedPointRequantization {
  /// The per-channel integer constants of steps 1-3, as Swift computes them at lowering time.
  /// `preShift` multiplies the input by `2^preShift` first (TFLite's Add shifts by 20);
  /// `inputZeroPoint` is subtracted from the input (folded into the offset of step 2); `addend`
  /// is added to the result (the output zero point in step 4, or 0).
  struct Constants: Equatable {
    var multipliers: [Int64]
    var highMulOffsets: [Int64]
    var rightShifts: [Int64]
    var roundingPositive: [Int64]
    var roundingNegative: [Int64]
    var offsets: [Int64]

    init(realScales: [Double], preShift: Int = 0, inputZeroPoint: Int32 = 0, addend: Int64) {
      var multipliers: [Int64] = []
      var rightShifts: [Int64] = []
      for real in realScales {
        let (multiplier, shift) = Requantizer.quantizeMultiplier(real)
        multipliers.append(Int64(multiplier) << Int64(max(shift, 0) + preShift))
        rightShifts.append(Int64(max(-shift, 0)))
      }
      self.multipliers = multipliers
      self.rightShifts = rightShifts
      highMulOffsets = multipliers.map { FixedPointRequantization.highMulOffset - Int64(inputZeroPoint) * $0 }
      let halves = rightShifts.map { $0 > 0 ? Int64(1) << ($0 - 1) : 0 }
      roundingPositive = halves.map { $0 + twoTo31 }
      roundingNegative = zip(halves, rightShifts).map { $0 - ($1 > 0 ? 1 : 0) + twoTo31 }
      offsets = rightShifts.map { addend - ((Int64(1) << 32) >> $0) }
    }

    /// The same computation on one input in Swift, step by step as the graph does it.
    func apply(_ input: Int64, channel: Int) -> Int64 {
      let c = multipliers.count == 1 ? 0 : channel
      let w = Int64(UInt64(input * multipliers[c] + highMulOffsets[c]) >> 31)
      let z = w + (w < twoTo31 ? roundingNegative[c] : roundingPositive[c])
      return Int64(UInt64(z) >> UInt64(rightShifts[c])) + offsets[c]
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
    let scaled = try multiply(
      accumulator, realScales: realScales, addend: Int64(zeroPoint), channelShape: channelShape, name: name,
      rewriter: rewriter)
    return try narrow(scaled, type: type, bounds: bounds, name: name, rewriter: rewriter)
  }

  /// Steps 1-3 (and the addend): `MultiplyByQuantizedMultiplier((x - inputZeroPoint) << preShift)
  /// + addend` as an int64 tensor, for an integer `input` of any width up to int64.
  static func multiply(
    _ input: Value, realScales: [Double], preShift: Int = 0, inputZeroPoint: Int32 = 0, addend: Int64 = 0,
    channelShape: [Int], name: String, rewriter: Rewriter
  ) throws -> Value {
    let uniform = Set(realScales).count == 1
    let constants = Constants(
      realScales: uniform ? [realScales[0]] : realScales, preShift: preShift, inputZeroPoint: inputZeroPoint,
      addend: addend)
    let builder = Builder(base: input.name, name: name, shape: uniform ? [] : channelShape, rewriter: rewriter)
    let right = [Attribute.string("direction", "RIGHT")]
    let wide = try builder.node("Cast", [input], [.int("to", Int64(DataType.int64.rawValue))])
    let product = try builder.node("Mul", [wide, try builder.constant("multiplier", constants.multipliers)])
    let nudged = try builder.node(
      "Add", [product, try builder.constant("high_mul_offset", constants.highMulOffsets)])
    let unsigned = try builder.node("Cast", [nudged], [.int("to", Int64(DataType.uint64.rawValue))])
    let high = try builder.node(
      "BitShift", [unsigned, try builder.constant("shift31", [31], .uint64, scalar: true)], right)
    let w = try builder.node("Cast", [high], [.int("to", Int64(DataType.int64.rawValue))])
    let negative = try builder.node("Less", [w, try builder.constant("sign_threshold", [twoTo31], scalar: true)])
    let rounding = try builder.node(
      "Where",
      [
        negative, try builder.constant("rounding_negative", constants.roundingNegative),
        try builder.constant("rounding_positive", constants.roundingPositive),
      ])
    let rounded = try builder.node("Add", [w, rounding])
    let roundedUnsigned = try builder.node("Cast", [rounded], [.int("to", Int64(DataType.uint64.rawValue))])
    let shifted = try builder.node(
      "BitShift", [roundedUnsigned, try builder.constant("right_shift", constants.rightShifts, .uint64)], right)
    let signed = try builder.node("Cast", [shifted], [.int("to", Int64(DataType.int64.rawValue))])
    return try builder.node("Add", [signed, try builder.constant("offset", constants.offsets)])
  }

  /// Step 4: an int64 tensor clamped to `type`'s range (narrowed by `bounds`) and cast to it.
  static func narrow(_ value: Value, type: DataType, bounds: (Int32, Int32)?, name: String, rewriter: Rewriter)
    throws -> Value
  {
    guard let range = QuantizedValues.range(type) else {
      throw ONNXQATError.badArgument("requantization of '\(value.name)' to \(type.name): not an integer type")
    }
    let builder = Builder(base: value.name, name: name, shape: [], rewriter: rewriter)
    let low = max(range.lowerBound, bounds?.0 ?? range.lowerBound)
    let high = min(range.upperBound, bounds?.1 ?? range.upperBound)
    let clipped = try builder.node(
      "Clip", [value, try builder.constant("min", [Int64(low)]), try builder.constant("max", [Int64(high)])])
    return try builder.node("Cast", [clipped], [.int("to", Int64(type.rawValue))])
  }

  /// Adds the constants and nodes of one requantization, named after its input.
  private struct Builder {
    let base: String
    let name: String
    /// The shape of per-channel constants ([] when uniform).
    let shape: [Int]
    let rewriter: Rewriter

    func constant(_ suffix: String, _ values: [Int64], _ dataType: DataType = .int64, scalar: Bool = false)
      throws -> Value
    {
      let dims = scalar || values.count == 1 ? [] : shape
      let tensor =
        dataType == .uint64
        ? HostTensor(.uint64, shape: dims, values: values.map { UInt64($0) })
        : HostTensor(.int64, shape: dims, values: values)
      return try rewriter.addConstant(base + "_" + suffix, tensor.irTensor(name: nil))
    }

    func node(_ opType: String, _ inputs: [Value], _ attributes: [Attribute] = []) throws -> Value {
      let created = try rewriter.insertNode(
        opType, name: name.isEmpty ? "" : "\(name)_\(opType)", inputs: inputs,
        outputBases: ["\(base)_\(opType.lowercased())"], attributes: attributes)
      guard let output = created.output else {
        throw ONNXQATError.badArgument("requantization of '\(base)': \(opType) made no output")
      }
      return output
    }
  }
}
