import Foundation

/// QuantizeLinear: `y = saturate(roundHalfToEven(x / y_scale) + y_zero_point)`.
///
/// - opset 10: per-tensor scale and zero point; uint8 (default) or int8 output.
/// - opset 13: `axis` for per-axis (1-D) scale and zero point.
/// - opset 19: float16/bfloat16 inputs and scales; float8 outputs (e4m3fn, e4m3fnuz, e5m2,
///   e5m2fnuz) rounded to nearest even, with `saturate` (default 1); float8 zero points must be 0.
/// - opset 21: blocked quantization (`block_size`), int4/uint4/int16/uint16 outputs,
///   `output_dtype` when the zero point is omitted.
/// - opset 23/25/28: `precision` (the float type the division is done in), int32 inputs and
///   scales, float4e2m1 and float6 outputs (whose zero point is added before the cast),
///   int2/uint2.
/// The division is done in Float (both operands decoded); for float16 or bfloat16 operands the
/// quotient is rounded to that type first, as NumPy does in onnx's reference implementation.
enum QuantizeLinearKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let x = try context.input(0)
    let scale = try context.input(1)
    let zeroPoint = context.optionalInput(2)
    var outputType = DataType.uint8
    if let zeroPoint {
      outputType = zeroPoint.dataType
    } else if let requested = context.int("output_dtype"), requested != 0 {
      outputType = DataType(rawValue: Int32(requested))
    }
    let axis = context.int("axis", default: 1)
    let blockSize = context.opsetVersion >= 21 ? context.int("block_size", default: 0) : 0
    let saturate = context.int("saturate", default: 1) != 0
    // The type the quotient is rounded to.
    var divisionType = x.dataType == .double || scale.dataType == .double ? DataType.float : x.dataType
    if let precision = context.int("precision"), precision != 0 { divisionType = DataType(rawValue: Int32(precision)) }
    if divisionType != scale.dataType && scale.dataType == .float { divisionType = .float }
    let count = x.count
    // One float scale and zero point (no shape check can fail then): the vector loop, without
    // decoding the operands into arrays first.
    if x.dataType == .float, scale.dataType == .float, scale.count == 1, blockSize == 0, divisionType == .float,
      outputType == .uint8 || outputType == .int8, zeroPoint.map({ $0.count == 1 }) ?? true,
      let zero = zeroPoint.map({ QuantizedValues.int32s($0)?.first }) ?? 0
    {
      let result = HostTensor(uninitialized: outputType, shape: x.shape)
      let values = x.pointer(Float.self)
      let divisor = scale.pointer(Float.self)[0]
      if outputType == .uint8 {
        quantizePerTensor(values, count: count, scale: divisor, zeroPoint: zero, into: result.pointer(UInt8.self))
      } else {
        quantizePerTensor(values, count: count, scale: divisor, zeroPoint: zero, into: result.pointer(Int8.self))
      }
      return [result]
    }
    guard let xs = QuantizedValues.floats(x), let scales = QuantizedValues.floats(scale) else {
      throw context.failure(
        "expected float inputs x and y_scale, got \(x.typeDescription) and \(scale.typeDescription)")
    }
    let scaleIndex = try QuantizedValues.parameterIndices(
      shape: x.shape, axis: axis, parameterShape: scale.shape, blockSize: blockSize, context: context)
    if let zeroPoint, zeroPoint.shape != scale.shape && zeroPoint.count != scale.count {
      throw context.failure("y_zero_point shape \(zeroPoint.shape) differs from y_scale shape \(scale.shape)")
    }
    let roundQuotient = DivisionRounding(divisionType)
    if let range = QuantizedValues.range(outputType), outputType != .int32 {
      let zeros = try zeroPoint.map { tensor -> [Int32] in
        guard let values = QuantizedValues.int32s(tensor) else {
          throw context.failure("unsupported zero point type \(tensor.dataType.name)")
        }
        return values
      }
      var result = [Int32](repeating: 0, count: count)
      let low = Float(range.lowerBound)
      let high = Float(range.upperBound)
      for i in 0..<count {
        let p = scaleIndex[i]
        var q = roundQuotient.apply(roundQuotient.apply(xs[i]) / roundQuotient.apply(scales[p])).rounded(
          .toNearestOrEven)
        if let zeros { q += Float(zeros[p]) }
        // Float is exact for integers below 2^24; larger values only need to clamp correctly.
        // NaN becomes qmin, as in onnxruntime (MAXPS) and NumPy (rint(nan) -> INT_MIN, clipped).
        q = q >= low ? (q > high ? high : q) : low
        result[i] = Int32(q)
      }
      return [QuantizedValues.tensor(result, type: outputType, shape: x.shape)]
    }
    guard let encoder = MinifloatEncoder(outputType) else {
      throw context.failure("unsupported output type \(outputType.name): expected an 8/16-bit, 4-bit or float8 type")
    }
    let addsZeroPoint = [.float4e2m1, .float6e2m3, .float6e3m2].contains(outputType)
    let zeros = zeroPoint.flatMap { QuantizedValues.floats($0) }
    let result = HostTensor(zeros: outputType, shape: x.shape)
    let out = result.pointer(UInt8.self)
    for i in 0..<count {
      let p = scaleIndex[i]
      var value = roundQuotient.apply(roundQuotient.apply(xs[i]) / roundQuotient.apply(scales[p]))
      if addsZeroPoint, let zeros { value += zeros[p] }
      out[i] = encoder.encode(value, saturate: saturate)
    }
    return [result]
  }
}

/// Rounds Float values to the float type a QuantizeLinear division is done in.
private enum DivisionRounding {
  case float, float16, bfloat16

  init(_ type: DataType) {
    switch type {
    case .float16: self = .float16
    case .bfloat16: self = .bfloat16
    default: self = .float
    }
  }

  @inline(__always)
  func apply(_ value: Float) -> Float {
    switch self {
    case .float: return value
    case .float16: return FloatBits.float16ToFloat(FloatBits.floatToFloat16(value))
    case .bfloat16: return FloatBits.bfloat16ToFloat(FloatBits.floatToBFloat16(value))
    }
  }
}
