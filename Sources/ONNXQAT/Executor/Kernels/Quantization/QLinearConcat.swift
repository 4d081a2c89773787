import Foundation

/// com.microsoft QLinearConcat (onnxruntime contrib op, version 1): inputs Y_scale,
/// Y_zero_point, then (X_i, X_i_scale, X_i_zero_point) triples; attribute `axis`. Each input whose
/// scale and zero point equal the output's is copied; the others are requantized element-wise
/// through onnxruntime's identity LookupTable (`quantize(dequantize(x))`), then all are
/// concatenated along `axis` (negative counts from the back).
enum QLinearConcatKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let yScale = try QLinearMatMulKernel.scales(try context.input(0), count: 1, name: "Y_scale", context: context)[0]
    let yZeroTensor = try context.input(1)
    guard let yZero = QuantizedValues.int32s(yZeroTensor)?.first,
      yZeroTensor.dataType == .int8 || yZeroTensor.dataType == .uint8
    else {
      throw context.failure("Y_zero_point must be an int8 or uint8 scalar, got \(yZeroTensor.typeDescription)")
    }
    let type = yZeroTensor.dataType
    guard context.inputs.count >= 5, (context.inputs.count - 2) % 3 == 0 else {
      throw context.failure("expected Y_scale, Y_zero_point and triples (X, X_scale, X_zero_point)")
    }
    var parts: [HostTensor] = []
    for start in stride(from: 2, to: context.inputs.count, by: 3) {
      let x = try context.input(start)
      guard x.dataType == type else {
        throw context.failure("input \(start) is \(x.typeDescription), expected \(type.name) like Y_zero_point")
      }
      let scale = try QLinearMatMulKernel.scales(
        try context.input(start + 1), count: 1, name: "X_scale", context: context)[0]
      let zero = try MatMulIntegerKernel.zeroPoints(
        context.optionalInput(start + 2), count: 1, name: "X_zero_point", context: context)[0]
      if scale == yScale && zero == yZero {
        parts.append(x)
      } else {
        let table = LookupTable(
          type: type, inputScale: scale, inputZeroPoint: zero, outputScale: yScale, outputZeroPoint: yZero
        ) { $0 }
        parts.append(table.apply(x, type: type))
      }
    }
    let rank = parts[0].rank
    var axis = context.int("axis", default: 0)
    if axis < 0 { axis += rank }
    guard axis >= 0 && axis < rank else { throw context.failure("axis \(axis) is out of range for rank \(rank)") }
    var shape = parts[0].shape
    shape[axis] = 0
    for part in parts {
      guard part.rank == rank,
        (0..<rank).allSatisfy({ $0 == axis || part.shape[$0] == parts[0].shape[$0] })
      else {
        throw context.failure("input shapes \(parts.map(\.shape)) differ outside axis \(axis)")
      }
      shape[axis] += part.shape[axis]
    }
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    let result = HostTensor(zeros: type, shape: shape)
    let out = result.pointer(UInt8.self)
    var offset = 0
    for o in 0..<outer {
      for part in parts {
        let length = part.shape[axis] * inner
        let source = part.pointer(UInt8.self) + o * length
        (out + offset).update(from: source, count: length)
        offset += length
      }
    }
    return [result]
  }
}
