import Foundation

/// Encodes Float as the code of a float8 type (e4m3fn, e4m3fnuz, e5m2, e5m2fnuz) or another
/// byte-coded minifloat (float4e2m1, float6), as Cast, QuantizeLinear (opset 19+) and onnx's
/// reference implementation (`saturate_cast` then an ml_dtypes cast) do:
///
/// - rounding to the nearest representable value, ties to even, subnormals included;
/// - `saturate: true`: the input is first clamped to `[-max, max]` (so ±inf become ±max);
/// - `saturate: false`: a value whose rounding exceeds max becomes ±inf (e5m2) or NaN (the fn
///   and fnuz formats); formats without NaN or inf (float4, float6) always saturate;
/// - NaN becomes the format's NaN (signed as ml_dtypes does); in the fnuz formats -0 becomes +0
///   (their 0x80 is NaN).
struct MinifloatEncoder {
  let format: FloatBits.Format
  let maxFinite: Float
  let hasInfinity: Bool
  let hasNaN: Bool

  init?(_ type: DataType) {
    guard let format = FloatBits.format(type), format.signed else { return nil }
    self.format = format
    let values = (0..<(1 << format.bitCount)).map { format.decode(UInt8($0)) }
    maxFinite = values.filter { $0.isFinite }.max() ?? 0
    hasInfinity = values.contains { $0.isInfinite }
    hasNaN = values.contains { $0.isNaN }
  }

  private var signBit: UInt8 { UInt8(1 << (format.bitCount - 1)) }

  /// The NaN code ml_dtypes writes: 0x80 in the fnuz formats, else the quiet NaN with the
  /// input's sign (all ones for e4m3fn, 0x7E for e5m2).
  private func nanCode(negative: Bool) -> UInt8 {
    if format.unsignedZero { return signBit }
    let magnitude = hasInfinity ? UInt8((1 << (format.bitCount - 1)) - 2) : UInt8((1 << (format.bitCount - 1)) - 1)
    return magnitude | (negative ? signBit : 0)
  }

  func encode(_ value: Float, saturate: Bool) -> UInt8 {
    let negative = value.sign == .minus
    if value.isNaN { return hasNaN ? nanCode(negative: negative) : 0 }
    var magnitude = abs(value)
    if saturate || !(hasNaN || hasInfinity) { magnitude = min(magnitude, maxFinite) }
    let mantissaBits = format.mantissaBits
    let minimumExponent = 1 - format.bias
    var code: Int
    if magnitude.isInfinite {
      code = -1
    } else if magnitude < Float(sign: .plus, exponent: minimumExponent, significand: 1) {
      // Subnormal range: multiples of 2^(minimumExponent - mantissaBits); the result may round
      // up into the smallest normal, whose code is the next integer.
      let quantum = Float(sign: .plus, exponent: minimumExponent - mantissaBits, significand: 1)
      code = Int((magnitude / quantum).rounded(.toNearestOrEven))
    } else {
      let exponent = Int(magnitude.exponent)
      let quantum = Float(sign: .plus, exponent: exponent - mantissaBits, significand: 1)
      let rounded = (magnitude / quantum).rounded(.toNearestOrEven) * quantum
      if rounded > maxFinite {
        code = -1
      } else {
        let e = Int(rounded.exponent)
        let mantissa =
          Int(rounded / Float(sign: .plus, exponent: e - mantissaBits, significand: 1)) - (1 << mantissaBits)
        code = ((e + format.bias) << mantissaBits) | mantissa
      }
    }
    if code < 0 {  // overflow
      if saturate || !(hasNaN || hasInfinity) {
        code = Int(encode(maxFinite, saturate: true))
      } else if hasInfinity {
        code = ((1 << format.exponentBits) - 1) << mantissaBits
      } else {
        return nanCode(negative: negative)
      }
    }
    if code == 0 && format.unsignedZero { return 0 }
    return UInt8(code) | (negative ? signBit : 0)
  }

  /// float8e8m0 (a biased power of two, no sign): `roundMode` "up" (the default), "down" or
  /// "nearest" on the float32 exponent; NaN and (unless saturating) overflow give 0xff.
  static func encodeE8M0(_ x: Float, saturate: Bool, roundMode: String) -> UInt8 {
    if x.isNaN { return 0xff }
    if x.isInfinite { return saturate ? 0xfe : 0xff }
    let bits = x.bitPattern
    var exponent = Int((bits >> 23) & 0xff)
    let mantissa = bits & 0x7f_ffff
    switch roundMode {
    case "down": break
    case "nearest":
      if mantissa & 0x40_0000 != 0 { exponent += 1 }
    default:
      if mantissa != 0 { exponent += 1 }
    }
    if exponent > 0xfe { return saturate ? 0xfe : 0xff }
    return UInt8(exponent)
  }
}
