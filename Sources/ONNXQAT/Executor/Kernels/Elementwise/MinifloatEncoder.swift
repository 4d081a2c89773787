/// Float32 to the byte-coded float formats (float8e4m3fn, float8e4m3fnuz, float8e5m2,
/// float8e5m2fnuz, float4e2m1, float6e2m3, float6e3m2; float8e8m0 separately), as ONNX's Cast
/// and QuantizeLinear specify: round to nearest, ties to the even code, over the format's
/// sorted finite values. Past the largest finite value M (from M + ulp/2 on, ties to even):
/// `saturate` gives ±M; otherwise ±infinity where the format has one (e5m2), NaN where it does
/// not (with the sign, in the fn formats). ±infinity becomes ±M when saturating. NaN becomes the format's NaN (the negative-zero
/// code for formats without NaN, as ml_dtypes does). Negative values that round to zero in
/// the "uz" formats become +0 (their negative-zero code is NaN).
struct ElementwiseMinifloatEncoder {
  /// Finite non-negative values by code, 0 ... maxCode (increasing).
  let values: [Float]
  let signBit: UInt8
  let nanCode: UInt8
  let infinityCode: UInt8?
  let unsignedZero: Bool
  /// M + ulp(M): the value the next code would have.
  let overflow: Double

  init?(_ type: DataType) {
    guard let format = Self.format(type), format.signed else { return nil }
    let half = 1 << (format.bitCount - 1)
    var values: [Float] = []
    for code in 0..<half {
      let value = format.decode(UInt8(code))
      if !value.isFinite { break }
      values.append(value)
    }
    guard values.count >= 2, let last = values.last else { return nil }
    self.values = values
    signBit = UInt8(half)
    unsignedZero = format.unsignedZero
    let maxCode = values.count - 1
    if format.unsignedZero {
      nanCode = UInt8(half)
      infinityCode = nil
    } else if format.noSpecialExponent {
      // fn formats: all-ones magnitude is NaN; float4/float6 have no NaN at all.
      nanCode = maxCode == half - 1 ? UInt8(half) : UInt8(half - 1)
      infinityCode = nil
    } else {
      nanCode = UInt8(half - 1)
      infinityCode = UInt8(maxCode + 1)
    }
    overflow = Double(last) + Double(last) - Double(values[maxCode - 1])
  }

  func encode(_ x: Float, saturate: Bool) -> UInt8 {
    if x.isNaN { return nanCode }
    let negative = x.sign == .minus
    let sign = negative ? signBit : 0
    let magnitude = x.magnitude
    let maxCode = values.count - 1
    var overflowed = magnitude.isInfinite
    var code = 0
    if !overflowed {
      // Largest code whose value <= magnitude.
      var low = 0
      var high = maxCode
      while low < high {
        let middle = (low + high + 1) / 2
        if values[middle] <= magnitude { low = middle } else { high = middle - 1 }
      }
      code = low
      let value = Double(magnitude)
      let below = Double(values[code])
      if value != below {
        let above = code == maxCode ? overflow : Double(values[code + 1])
        let middle = (below + above) / 2
        if value > middle || (value == middle && code & 1 == 1) { code += 1 }
      }
      overflowed = code > maxCode
    }
    if overflowed {
      if saturate { return UInt8(maxCode) | sign }
      if let infinityCode { return infinityCode | sign }
      return unsignedZero ? nanCode : nanCode | sign
    }
    if code == 0 && unsignedZero { return 0 }
    return UInt8(code) | sign
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

extension ElementwiseMinifloatEncoder {
  /// FloatBits' layout of `type`, except that float4e2m1 and the float6 formats have no NaN:
  /// every code is finite (FloatBits decodes their all-ones magnitude as NaN).
  static func format(_ type: DataType) -> FloatBits.Format? {
    guard let format = FloatBits.format(type) else { return nil }
    guard type == .float4e2m1 || type == .float6e2m3 || type == .float6e3m2 else { return format }
    return FloatBits.Format(
      exponentBits: format.exponentBits, mantissaBits: format.mantissaBits, bias: format.bias, finiteOnly: false,
      unsignedZero: false, signed: true, noSpecialExponent: true)
  }

  /// A decoder from code to Float for the byte-coded float formats, nil for other types.
  static func decoder(for type: DataType) -> ((UInt8) -> Float)? {
    guard let format = format(type) else { return nil }
    let table = (0..<(1 << format.bitCount)).map { format.decode(UInt8($0)) }
    return { code in table[Int(code) & (table.count - 1)] }
  }
}
