import Foundation

/// QLinearMatMul (opset 10 and 21): `y = requantize((a - a_zp) @ (b - b_zp), a_scale * b_scale / y_scale) + y_zp`
/// with NumPy matmul broadcasting and int32 accumulation. a and b: int8 or uint8; y takes the
/// type of y_zero_point. `a_scale`/`a_zero_point` are scalars or per row of a ([M]),
/// `b_scale`/`b_zero_point` scalars or per column of b ([N]). Opset 21 allows float16 and
/// bfloat16 scales (read as Float). Requantization follows `ExecutionOptions.requantization`
/// (see Requantizer); the multiplier is `Float(a_scale) * Float(b_scale[n]) / Float(y_scale)`.
enum QLinearMatMulKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let a = try context.input(0)
    let b = try context.input(3)
    guard Int8Gemm.accepts(a.dataType), Int8Gemm.accepts(b.dataType) else {
      throw context.failure("expected int8 or uint8 inputs a and b, got \(a.typeDescription) and \(b.typeDescription)")
    }
    let shape = try IntegerGemm.shape(a.shape, b.shape, context: context)
    let (m, n) = (shape.m, shape.n)
    let aScale = try scales(try context.input(1), count: m, name: "a_scale", context: context)
    let bScale = try scales(try context.input(4), count: n, name: "b_scale", context: context)
    let yScale = try scales(try context.input(6), count: 1, name: "y_scale", context: context)
    let aZero = try MatMulIntegerKernel.zeroPoints(
      try context.input(2), count: m, name: "a_zero_point", context: context)
    let bZero = try MatMulIntegerKernel.zeroPoints(
      try context.input(5), count: n, name: "b_zero_point", context: context)
    let yZeroTensor = try context.input(7)
    guard let yZero = QuantizedValues.int32s(yZeroTensor)?.first,
      let range = QuantizedValues.range(yZeroTensor.dataType)
    else {
      throw context.failure("y_zero_point must be an int8 or uint8 scalar, got \(yZeroTensor.typeDescription)")
    }
    guard
      let accumulators = try MatMulIntegerKernel.multiply(
        a, aZero, b, bZero, shape: shape, threads: Swift.max(1, context.interpreter.options.threads))
    else { throw context.failure("expected int8 or uint8 inputs a and b") }
    let mode = context.interpreter.options.requantization
    let perRowA = Set(aScale).count > 1
    var requantizers: [Requantizer] = []
    for row in 0..<(perRowA ? m : 1) {
      requantizers.append(
        Requantizer(
          mode: mode, inputScale: aScale[row], weightScales: Set(bScale).count > 1 ? bScale : [bScale[0]],
          outputScale: yScale[0], zeroPoint: yZero, range: range))
    }
    let output = HostTensor(zeros: yZeroTensor.dataType, shape: shape.output)
    let batches = shape.aBatches.count
    accumulators.withUnsafeBufferPointer { source in
      guard let base = source.baseAddress else { return }
      for batch in 0..<batches {
        for row in 0..<m {
          let offset = (batch * m + row) * n
          let requantizer = requantizers[perRowA ? row : 0]
          if yZeroTensor.dataType == .uint8 {
            requantizer.requantizeColumns(base + offset, count: n, into: output.pointer(UInt8.self) + offset)
          } else {
            requantizer.requantizeColumns(base + offset, count: n, into: output.pointer(Int8.self) + offset)
          }
        }
      }
    }
    return [output]
  }

  /// A scale input as `count` Floats (a scalar repeated).
  static func scales(_ tensor: HostTensor, count: Int, name: String, context: KernelContext) throws -> [Float] {
    guard let values = QuantizedValues.floats(tensor) else {
      throw context.failure("\(name) must be a float tensor, got \(tensor.typeDescription)")
    }
    if values.count == 1 { return [Float](repeating: values[0], count: count) }
    guard values.count == count else {
      throw context.failure("\(name) must be a scalar or have \(count) elements, got shape \(tensor.shape)")
    }
    return values
  }
}
