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

  /// The pair of QuantizeLinear node `quantize` with scale `scale` and zero point `zeroPoint` and
  /// a DequantizeLinear with `dequantizeScale` and `dequantizeZeroPoint` (whose attributes
  /// `attributesFit`), for a float32 input; nil when either kernel would take a path whose bits
  /// this does not reproduce or would throw (a scale not one float32, a zero point not one value
  /// of an 8- or 16-bit integer type, the DequantizeLinear's zero point of another type): the
  /// unfused kernels run then.
  init?(
    quantize: Node, scale: HostTensor?, zeroPoint: HostTensor?, dequantizeScale: HostTensor?,
    dequantizeZeroPoint: HostTensor?
  ) {
    guard let scale = Self.scale(scale), let factor = Self.scale(dequantizeScale) else { return nil }
    var type = DataType.uint8
    if let zeroPoint {
      type = zeroPoint.dataType
    } else if case .int(let requested)? = quantize.attribute("output_dtype")?.value, requested != 0 {
      type = DataType(rawValue: Int32(truncatingIfNeeded: requested))
    }
    guard let range = Self.range(type), let zero = Self.zeroPoint(zeroPoint, type: type),
      let dequantizeZero = Self.zeroPoint(dequantizeZeroPoint, type: type)
    else { return nil }
    self.scale = scale
    self.factor = factor
    low = Float(range.lowerBound - zero)
    high = Float(range.upperBound - zero)
    offset = Float(zero - dequantizeZero)
  }

  /// The pair of members `index` (a QuantizeLinear) and `index + 1` (its DequantizeLinear) of a
  /// fused step in its run `step`.
  init?(_ members: FusedMembers, quantizeAt index: Int, _ step: KernelContext) {
    self.init(
      quantize: members.nodes[index], scale: members.input(1, ofMember: index, step),
      zeroPoint: members.input(2, ofMember: index, step), dequantizeScale: members.input(1, ofMember: index + 1, step),
      dequantizeZeroPoint: members.input(2, ofMember: index + 1, step))
  }

  /// The range of `type` when it is an 8- or 16-bit integer type.
  private static func range(_ type: DataType) -> ClosedRange<Int32>? {
    switch type {
    case .uint8, .int8, .uint16, .int16: return QuantizedValues.range(type)
    default: return nil
    }
  }

  /// True when the attributes of `quantize` and `dequantize` (at default-domain opset `version`)
  /// let the kernels take the paths this reproduces: no `block_size`, and a float32 output of the
  /// DequantizeLinear (`output_dtype` omitted, 0 or float).
  static func attributesFit(quantize: Node, dequantize: Node, version: Int) -> Bool {
    func int(_ node: Node, _ name: String) -> Int64? {
      if case .int(let value)? = node.attribute(name)?.value { return value }
      return nil
    }
    return (version < 21 || (int(quantize, "block_size") ?? 0) == 0 && (int(dequantize, "block_size") ?? 0) == 0)
      && [0, Int64(DataType.float.rawValue)].contains(int(dequantize, "output_dtype") ?? 0)
  }

  /// The value of `tensor` when it is one float32.
  private static func scale(_ tensor: HostTensor?) -> Float? {
    guard let tensor, tensor.dataType == .float, tensor.count == 1 else { return nil }
    return tensor.pointer(Float.self)[0]
  }

  /// The value of zero point `tensor` (0 when omitted) when it is one value of `type`.
  private static func zeroPoint(_ tensor: HostTensor?, type: DataType) -> Int32? {
    guard let tensor else { return 0 }
    guard tensor.dataType == type, tensor.count == 1 else { return nil }
    switch type {
    case .uint8: return Int32(tensor.pointer(UInt8.self)[0])
    case .int8: return Int32(tensor.pointer(Int8.self)[0])
    case .uint16: return Int32(tensor.pointer(UInt16.self)[0])
    case .int16: return Int32(tensor.pointer(Int16.self)[0])
    default: return nil
    }
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
