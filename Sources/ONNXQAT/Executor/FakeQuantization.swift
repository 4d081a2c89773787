import Foundation

/// A QuantizeLinear -> DequantizeLinear pair on float32 values computed in one pass, with the bits
/// of the two kernels run one after the other (QuantizeLinearKernel and DequantizeLinearKernel
/// with one float32 scale and at most one zero point each, 8- or 16-bit integers in between):
///
///     q = clamp(roundHalfToEven(x / s_q) + zp_q, qmin, qmax)      (QuantizeLinear, NaN -> qmin)
///     y = (Float(q) - Float(zp_dq)) * s_dq                          (DequantizeLinear)
///
/// is computed as
///
///     c = clamp(x / s_q, qmin - zp_q, qmax - zp_q)                  (NaN -> qmin - zp_q)
///     r = (c + 1.5 * 2^23) - 1.5 * 2^23
///     y = (r + Float(zp_q - zp_dq)) * s_dq
///
/// The same Float division; rounding is monotonic and the bounds are integers, so clamping before
/// rounding gives the clamp after it (as QuantizeLinearKernel.quantizePerTensor argues); adding
/// and subtracting 1.5 * 2^23 rounds half to even exactly for |c| < 2^22, and `r` is never -0;
/// `Float(q) - Float(zp_dq)` and `r + Float(zp_q - zp_dq)` are the same integer below 2^17, exact
/// in Float (+0 when it is zero), so the final products are the same Float multiplication.
///
///     before:  q = QuantizeLinear (x, s, zp)
///              y = DequantizeLinear (q, s, zp)
///     after:   y = [QuantizeLinear + DequantizeLinear] (x, s, zp, s, zp)
struct FakeQuantization {
  /// QuantizeLinear's scale (the divisor).
  let scale: Float
  /// The quotient's bounds: `qmin - zp_q` and `qmax - zp_q`.
  let low: Float
  let high: Float
  /// `zp_q - zp_dq`.
  let offset: Float
  /// DequantizeLinear's scale.
  let factor: Float

  /// The pair of `quantize` and `dequantize` (the contexts of the two nodes; their input 0 is not
  /// read) for a float32 `x`; nil when either kernel would take a path whose bits this does not
  /// reproduce or would throw (a scale not one float32, a zero point not one value of an 8- or
  /// 16-bit integer type, DequantizeLinear's zero point of another type, `output_dtype` other
  /// than float, `block_size`): the unfused kernels run then.
  init?(quantize: KernelContext, dequantize: KernelContext) {
    guard let scale = Self.scale(quantize), let factor = Self.scale(dequantize),
      quantize.opsetVersion < 21 || quantize.int("block_size", default: 0) == 0,
      dequantize.opsetVersion < 21 || dequantize.int("block_size", default: 0) == 0,
      (dequantize.int("output_dtype") ?? 0) == 0 || dequantize.int("output_dtype") == Int(DataType.float.rawValue)
    else { return nil }
    let quantizeZero = quantize.optionalInput(2)
    var type = DataType.uint8
    if let quantizeZero {
      type = quantizeZero.dataType
    } else if let requested = quantize.int("output_dtype"), requested != 0 {
      type = DataType(rawValue: Int32(requested))
    }
    guard [.uint8, .int8, .uint16, .int16].contains(type), let range = QuantizedValues.range(type),
      let zero = Self.zeroPoint(quantizeZero, type: type), let dequantizeZero = Self.zeroPoint(
        dequantize.optionalInput(2), type: type)
    else { return nil }
    self.scale = scale
    self.factor = factor
    low = Float(range.lowerBound - zero)
    high = Float(range.upperBound - zero)
    offset = Float(zero - dequantizeZero)
  }

  /// Input 1 of `context` when it is one float32 value.
  private static func scale(_ context: KernelContext) -> Float? {
    guard let tensor = context.optionalInput(1), tensor.dataType == .float, tensor.count == 1 else { return nil }
    return tensor.pointer(Float.self)[0]
  }

  /// The value of zero point `tensor` (0 when omitted) when it is one value of `type`.
  private static func zeroPoint(_ tensor: HostTensor?, type: DataType) -> Int32? {
    guard let tensor else { return 0 }
    guard tensor.dataType == type, tensor.count == 1 else { return nil }
    return QuantizedValues.int32s(tensor)?.first
  }

  /// y[i] = fakeQuantized(x[i]) for i < count (`y` may be `x`), in a loop without calls that the
  /// compiler vectorizes.
  func apply(_ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count: Int) {
    let (scale, low, high, offset, factor) = (scale, low, high, offset, factor)
    let magic: Float = 12_582_912
    for i in 0..<count {
      let q = x[i] / scale
      let clamped = q >= low ? (q > high ? high : q) : low
      y[i] = ((clamped + magic) - magic + offset) * factor
    }
  }
}
