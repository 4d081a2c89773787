import Foundation

/// DequantizeLinear: `y = (x - x_zero_point) * x_scale`, computed in Float and stored in the
/// scale's type (or `output_dtype`, opset 23+).
///
/// - opset 10: per-tensor; int8, uint8, int32 inputs (int32 with zero point 0).
/// - opset 13: `axis` for per-axis (1-D) scale and zero point.
/// - opset 19: float16/bfloat16 scales; float8 inputs (decoded; their zero point must be 0).
/// - opset 21: blocked dequantization (`block_size`); int4, uint4, int16, uint16 inputs.
/// - opset 23/25/28: `output_dtype`; float6 (28); float4e2m1 (zero point not subtracted, as in onnx's reference),
///   int2/uint2.
enum DequantizeLinearKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let x = try context.input(0)
    let scale = try context.input(1)
    let zeroPoint = context.optionalInput(2)
    if let result = perTensorBytes(x, scale: scale, zeroPoint: zeroPoint, context: context) { return [result] }
    guard let scales = QuantizedValues.floats(scale) else {
      throw context.failure("expected a float x_scale, got \(scale.typeDescription)")
    }
    let axis = context.int("axis", default: 1)
    let blockSize = context.opsetVersion >= 21 ? context.int("block_size", default: 0) : 0
    let scaleIndex = try QuantizedValues.parameterIndices(
      shape: x.shape, axis: axis, parameterShape: scale.shape, blockSize: blockSize, context: context)
    if let zeroPoint, zeroPoint.count != scale.count {
      throw context.failure("x_zero_point shape \(zeroPoint.shape) differs from x_scale shape \(scale.shape)")
    }
    var outputType = scale.dataType
    if let requested = context.int("output_dtype"), requested != 0 { outputType = DataType(rawValue: Int32(requested)) }
    let count = x.count
    var result = [Float](repeating: 0, count: count)
    if let integers = QuantizedValues.int32s(x) {
      var zeros: [Int32]? = nil
      if let zeroPoint {
        guard zeroPoint.dataType == x.dataType, let values = QuantizedValues.int32s(zeroPoint) else {
          throw context.failure(
            "x_zero_point must have the type of x (\(x.dataType.name)), got \(zeroPoint.dataType.name)")
        }
        zeros = values
      }
      for i in 0..<count {
        let p = scaleIndex[i]
        // (x - zp) is exact in int64; NumPy subtracts in float32, which is exact below 2^24.
        let difference = Float(Float(integers[i]) - Float(zeros?[p] ?? 0))
        result[i] = difference * scales[p]
      }
    } else if let values = QuantizedValues.floats(x) {
      if let zeroPoint, x.dataType != .float4e2m1, zeroPoint.doubles().contains(where: { $0 != 0 }) {
        throw context.failure("x_zero_point must be zero for \(x.dataType.name) inputs")
      }
      // float6 zero points are subtracted (onnx's reference); float8's are zero, float4's ignored.
      let subtracts = x.dataType == .float6e2m3 || x.dataType == .float6e3m2
      let zeros = subtracts ? zeroPoint.flatMap { QuantizedValues.floats($0) } : nil
      for i in 0..<count {
        let p = scaleIndex[i]
        result[i] = (values[i] - (zeros?[p] ?? 0)) * scales[p]
      }
    } else {
      throw context.failure("unsupported input type \(x.dataType.name): expected an integer or float8 type")
    }
    guard let output = QuantizedValues.floatTensor(result, type: outputType, shape: x.shape) else {
      throw context.failure("unsupported output type \(outputType.name): expected float, float16 or bfloat16")
    }
    return [output]
  }
}

extension DequantizeLinearKernel {
  /// The common case on its own loop: uint8 or int8 `x` with one float scale and at most one zero
  /// point of `x`'s type, to float, without decoding the operands into arrays first. The same
  /// Float operations as the general loop, `(Float(x) - Float(zp)) * scale`, so equal bit for bit.
  /// Nil when the case does not apply (the general loop then runs, with its checks).
  static func perTensorBytes(_ x: HostTensor, scale: HostTensor, zeroPoint: HostTensor?, context: KernelContext)
    -> HostTensor?
  {
    guard x.dataType == .uint8 || x.dataType == .int8, scale.dataType == .float, scale.count == 1,
      zeroPoint.map({ $0.dataType == x.dataType && $0.count == 1 }) ?? true,
      (context.int("output_dtype") ?? 0) == 0 || context.int("output_dtype") == Int(DataType.float.rawValue),
      context.opsetVersion < 21 || context.int("block_size", default: 0) == 0
    else { return nil }
    let count = x.count
    let factor = scale.pointer(Float.self)[0]
    let result = HostTensor(uninitialized: .float, shape: x.shape)
    let out = result.pointer(Float.self)
    if x.dataType == .uint8 {
      let zero = Float(zeroPoint.map { $0.pointer(UInt8.self)[0] } ?? 0)
      let values = x.pointer(UInt8.self)
      for i in 0..<count { out[i] = (Float(values[i]) - zero) * factor }
    } else {
      let zero = Float(zeroPoint.map { $0.pointer(Int8.self)[0] } ?? 0)
      let values = x.pointer(Int8.self)
      for i in 0..<count { out[i] = (Float(values[i]) - zero) * factor }
    }
    return result
  }
}
