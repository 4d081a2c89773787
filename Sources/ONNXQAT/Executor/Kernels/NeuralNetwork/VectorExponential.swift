import Foundation

/// exp, the logistic sigmoid and tanh of eight floats at a time, for the gates of the recurrent
/// ops (a call into libm per element costs more than the recurrent product itself). Within a
/// few units in the last place of the correctly rounded results (the tests compare with libm at
/// a relative 1e-6):
///
///     exp(x) = 2^n * e^r,  n = round(x * log2(e)),  r = x - n * ln2 (ln2 split into a short
///              high part and a low part, so n * high is exact), |r| <= ln2 / 2;
///              e^r by its Taylor series to r^7 (the remainder is below 2^-27 relative),
///              2^n built in the exponent bits; x clamped to [-87, 88] (2^n stays normal).
///     sigmoid(x) = 1 / (1 + exp(-x))   (relative accuracy on both sides of 0).
///     tanh(x) = x + x^3 * P(x^2) (Taylor to x^13) for |x| < 0.4, where 1 - 2 / (e^2|x| + 1)
///              would cancel; sign(x) * (1 - 2 / (exp(2|x|) + 1)) elsewhere.
enum VectorExponential {
  typealias Lanes = SIMD8<Float>

  /// `a * b + c`, fused where the build has FMA (`-D ONNXQAT_AVX2`).
  @inline(__always)
  private static func multiplyAdd(_ a: Lanes, _ b: Lanes, _ c: Lanes) -> Lanes {
    #if ONNXQAT_AVX2
      return c.addingProduct(a, b)
    #else
      return a * b + c
    #endif
  }

  /// The lanes' bit patterns.
  @inline(__always)
  private static func bits(_ x: Lanes) -> SIMD8<UInt32> { unsafeBitCast(x, to: SIMD8<UInt32>.self) }

  /// Floats of the given bit patterns.
  @inline(__always)
  private static func floats(_ x: SIMD8<UInt32>) -> Lanes { unsafeBitCast(x, to: Lanes.self) }

  /// e^x lane by lane.
  @inline(__always)
  static func exp(_ x: Lanes) -> Lanes {
    // Compare-and-replace (the generic `clamped` is an out-of-line call); NaN stays NaN.
    let (low, high) = (Lanes(repeating: -87), Lanes(repeating: 88))
    let clamped = x.replacing(with: low, where: x .< low).replacing(with: high, where: x .> high)
    let n = (clamped * Lanes(repeating: 1.442_695_04)).rounded(.toNearestOrEven)
    // ln 2 = 0.693359375 (9 significant bits, so n * high is exact) - 2.12194440e-4.
    var r = multiplyAdd(n, Lanes(repeating: -0.693_359_375), clamped)
    r = multiplyAdd(n, Lanes(repeating: 2.121_944_40e-4), r)
    var p = Lanes(repeating: 1.0 / 5040)
    p = multiplyAdd(p, r, Lanes(repeating: 1.0 / 720))
    p = multiplyAdd(p, r, Lanes(repeating: 1.0 / 120))
    p = multiplyAdd(p, r, Lanes(repeating: 1.0 / 24))
    p = multiplyAdd(p, r, Lanes(repeating: 1.0 / 6))
    p = multiplyAdd(p, r, Lanes(repeating: 0.5))
    p = multiplyAdd(p, r, Lanes(repeating: 1))
    p = multiplyAdd(p, r, Lanes(repeating: 1))
    // 2^n: n + 127 lands in the low mantissa bits of 2^23 + n + 127; shifted into the exponent.
    let exponent = bits(n + Lanes(repeating: 8_388_735)) &<< 23
    return p * floats(exponent)
  }

  /// 1 / (1 + e^-x) lane by lane.
  @inline(__always)
  static func sigmoid(_ x: Lanes) -> Lanes {
    Lanes(repeating: 1) / (Lanes(repeating: 1) + exp(-x))
  }

  /// tanh(x) lane by lane.
  @inline(__always)
  static func tanh(_ x: Lanes) -> Lanes {
    let sign = bits(x) & SIMD8<UInt32>(repeating: 0x8000_0000)
    let magnitude = floats(bits(x) ^ sign)
    // Far branch: 1 - 2 / (e^2|x| + 1), sign restored below.
    let far = Lanes(repeating: 1) - Lanes(repeating: 2) / (exp(magnitude + magnitude) + Lanes(repeating: 1))
    // Near branch: the odd Taylor series, coefficients of x^13 down to x^3.
    let square = x * x
    var p = Lanes(repeating: 21844.0 / 6_081_075)
    p = multiplyAdd(p, square, Lanes(repeating: -1382.0 / 155_925))
    p = multiplyAdd(p, square, Lanes(repeating: 62.0 / 2835))
    p = multiplyAdd(p, square, Lanes(repeating: -17.0 / 315))
    p = multiplyAdd(p, square, Lanes(repeating: 2.0 / 15))
    p = multiplyAdd(p, square, Lanes(repeating: -1.0 / 3))
    let near = multiplyAdd(p * square, x, x)
    let signed = floats(bits(far) | sign)
    return signed.replacing(with: near, where: magnitude .< Lanes(repeating: 0.4))
  }

  /// Applies `function` in place to `count` floats, eight at a time; the last `count % 8` go
  /// through a zero-padded vector.
  @inline(__always)
  static func apply(_ values: UnsafeMutablePointer<Float>, _ count: Int, _ function: (Lanes) -> Lanes) {
    let raw = UnsafeMutableRawPointer(values)
    var i = 0
    while i + 8 <= count {
      raw.storeBytes(
        of: function(raw.loadUnaligned(fromByteOffset: i * 4, as: Lanes.self)), toByteOffset: i * 4, as: Lanes.self)
      i += 8
    }
    if i < count {
      var rest = Lanes()
      for lane in 0..<(count - i) { rest[lane] = values[i + lane] }
      let result = function(rest)
      for lane in 0..<(count - i) { values[i + lane] = result[lane] }
    }
  }
}
