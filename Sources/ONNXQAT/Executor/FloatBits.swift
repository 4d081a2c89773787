/// Bit-level conversions between Float and the small float formats ONNX stores as bit patterns:
/// float16, bfloat16, the float8 family, float8e8m0, float4e2m1 and float6.
///
/// Decoding follows each format's definition: e4m3fn's only NaN is the all-ones magnitude,
/// the fnuz formats' only NaN is negative zero, e5m2 has IEEE-style infinities and NaNs, e8m0
/// is a power of two with 0xff as NaN, and float4e2m1/float6 have neither infinities nor NaNs.
/// (Encoding from Float, with rounding and saturation, lives with the kernels that need it.)
public enum FloatBits {
  public static func float16ToFloat(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }
  public static func floatToFloat16(_ value: Float) -> UInt16 { Float16(value).bitPattern }

  public static func bfloat16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

  /// Round to nearest even on the upper 16 bits; NaN stays a quiet NaN.
  public static func floatToBFloat16(_ value: Float) -> UInt16 {
    if value.isNaN { return 0x7fc0 }
    let bits = value.bitPattern
    let rounding = UInt32(0x7fff) + ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
  }

  /// Layout of a minifloat format.
  struct Format {
    let exponentBits: Int
    let mantissaBits: Int
    let bias: Int
    /// "fn": no infinities; with `allOnesIsNaN`, the all-ones magnitude (both signs) is NaN.
    let finiteOnly: Bool
    /// "uz": unsigned zero; the negative-zero pattern is the only NaN.
    let unsignedZero: Bool
    /// Has a sign bit (e8m0 does not).
    let signed: Bool
    /// All-ones exponent is a normal exponent (float4, float6 and the fn/fnuz formats).
    let noSpecialExponent: Bool
    /// e4m3fn: the all-ones magnitude is NaN (float4 and float6 have no NaN at all).
    var allOnesIsNaN = false

    var bitCount: Int { (signed ? 1 : 0) + exponentBits + mantissaBits }

    func decode(_ code: UInt8) -> Float {
      let sign: Float = signed && (code >> (exponentBits + mantissaBits)) & 1 == 1 ? -1 : 1
      let exponent = Int(code >> mantissaBits) & ((1 << exponentBits) - 1)
      let mantissa = Int(code) & ((1 << mantissaBits) - 1)
      let all = (1 << bitCount) - 1
      if unsignedZero && Int(code) == 1 << (bitCount - 1) { return .nan }
      if !signed {  // e8m0: pure power of two, 0xff is NaN
        if Int(code) == all { return .nan }
        return Float(sign: .plus, exponent: exponent - bias, significand: 1)
      }
      if allOnesIsNaN && Int(code) & ((1 << (bitCount - 1)) - 1) == (1 << (bitCount - 1)) - 1 {
        return .nan
      }
      if !noSpecialExponent && exponent == (1 << exponentBits) - 1 {
        return mantissa == 0 ? sign * .infinity : .nan
      }
      if exponent == 0 {
        return sign * Float(mantissa) * Float(sign: .plus, exponent: 1 - bias - mantissaBits, significand: 1)
      }
      let significand = 1 + Float(mantissa) / Float(1 << mantissaBits)
      return sign * Float(sign: .plus, exponent: exponent - bias, significand: significand)
    }
  }

  static let float8e4m3fn = Format(
    exponentBits: 4, mantissaBits: 3, bias: 7, finiteOnly: true, unsignedZero: false, signed: true,
    noSpecialExponent: true, allOnesIsNaN: true)
  static let float8e4m3fnuz = Format(
    exponentBits: 4, mantissaBits: 3, bias: 8, finiteOnly: true, unsignedZero: true, signed: true,
    noSpecialExponent: true)
  static let float8e5m2 = Format(
    exponentBits: 5, mantissaBits: 2, bias: 15, finiteOnly: false, unsignedZero: false, signed: true,
    noSpecialExponent: false)
  static let float8e5m2fnuz = Format(
    exponentBits: 5, mantissaBits: 2, bias: 16, finiteOnly: true, unsignedZero: true, signed: true,
    noSpecialExponent: true)
  static let float8e8m0 = Format(
    exponentBits: 8, mantissaBits: 0, bias: 127, finiteOnly: true, unsignedZero: false, signed: false,
    noSpecialExponent: true)
  static let float4e2m1 = Format(
    exponentBits: 2, mantissaBits: 1, bias: 1, finiteOnly: true, unsignedZero: false, signed: true,
    noSpecialExponent: true)
  static let float6e2m3 = Format(
    exponentBits: 2, mantissaBits: 3, bias: 1, finiteOnly: true, unsignedZero: false, signed: true,
    noSpecialExponent: true)
  static let float6e3m2 = Format(
    exponentBits: 3, mantissaBits: 2, bias: 3, finiteOnly: true, unsignedZero: false, signed: true,
    noSpecialExponent: true)

  static func format(_ type: DataType) -> Format? {
    switch type {
    case .float8e4m3fn: return float8e4m3fn
    case .float8e4m3fnuz: return float8e4m3fnuz
    case .float8e5m2: return float8e5m2
    case .float8e5m2fnuz: return float8e5m2fnuz
    case .float8e8m0: return float8e8m0
    case .float4e2m1: return float4e2m1
    case .float6e2m3: return float6e2m3
    case .float6e3m2: return float6e3m2
    default: return nil
    }
  }

  /// A decoder from code to Float for the byte-coded float formats, nil for other types.
  public static func decoder(for type: DataType) -> ((UInt8) -> Float)? {
    guard let format = format(type) else { return nil }
    let table = (0..<(1 << format.bitCount)).map { format.decode(UInt8($0)) }
    return { code in table[Int(code) & (table.count - 1)] }
  }
}
