import Foundation

/// com.microsoft QGemm (onnxruntime contrib op, version 1): `acc = C + (A' - a_zp) @ (B' - b_zp)`
/// in int32, A' and B' optionally transposed (`transA`, `transB`), C an optional int32 bias
/// broadcast to [M, N]. With y_zero_point the result is requantized (Requantizer, multiplier
/// `alpha * a_scale * b_scale[n] / y_scale` in that Float order, as onnxruntime's
/// ComputeOutputScale); without it the output is float `Float(acc) * (alpha * a_scale * b_scale[n])`
/// (divided by y_scale when given). `b_scale` and `b_zero_point` are per tensor or per column [N].
enum QGemmKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let a = try context.input(0)
    let b = try context.input(3)
    guard a.rank == 2, b.rank == 2, let aRaw = QuantizedValues.int32s(a), let bRaw = QuantizedValues.int32s(b) else {
      throw context.failure("expected 2-D int8/uint8 A and B, got \(a.typeDescription) and \(b.typeDescription)")
    }
    let transA = context.int("transA", default: 0) != 0
    let transB = context.int("transB", default: 0) != 0
    let alpha = context.float("alpha", default: 1)
    let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard k == kb else { throw context.failure("inner dimensions differ: A gives \(k), B gives \(kb)") }
    let aValues = transA ? transpose(aRaw, rows: a.shape[0], columns: a.shape[1]) : aRaw
    let bValues = transB ? transpose(bRaw, rows: b.shape[0], columns: b.shape[1]) : bRaw
    let aScale = try QLinearMatMulKernel.scales(try context.input(1), count: 1, name: "a_scale", context: context)[0]
    let bScale = try QLinearMatMulKernel.scales(try context.input(4), count: n, name: "b_scale", context: context)
    let aZero = try MatMulIntegerKernel.zeroPoints(
      try context.input(2), count: m, name: "a_zero_point", context: context)
    let bZero = try MatMulIntegerKernel.zeroPoints(
      context.optionalInput(5), count: n, name: "b_zero_point", context: context)
    let shape = try IntegerGemm.shape([m, k], [k, n], context: context)
    var accumulators = try MatMulIntegerKernel.multiply(
      aValues, aZero, bValues, bZero, shape: shape, threads: Swift.max(1, context.interpreter.options.threads))
    if let c = context.optionalInput(6) {
      guard c.dataType == .int32 else { throw context.failure("C must be int32, got \(c.typeDescription)") }
      let bias = try Broadcast.binary(
        HostTensor(zeros: .int32, shape: [m, n]), c, Int32.self, Int32.self, into: .int32
      ) { $0 &+ $1 }
      guard bias.shape == [m, n] else {
        throw context.failure("C of shape \(c.shape) does not broadcast to [\(m), \(n)]")
      }
      let pc = bias.pointer(Int32.self)
      for i in 0..<accumulators.count { accumulators[i] = accumulators[i] &+ pc[i] }
    }
    let yScale = try context.optionalInput(7).map {
      try QLinearMatMulKernel.scales($0, count: 1, name: "y_scale", context: context)[0]
    }
    var scales = bScale.map { alpha * aScale * $0 }
    if let yScale { scales = scales.map { $0 / yScale } }
    guard let yZeroTensor = context.optionalInput(8) else {
      var result = [Float](repeating: 0, count: m * n)
      for i in 0..<(m * n) { result[i] = Float(accumulators[i]) * scales[i % n] }
      return [HostTensor(.float, shape: [m, n], values: result)]
    }
    guard let yScale, let yZero = QuantizedValues.int32s(yZeroTensor)?.first,
      let range = QuantizedValues.range(yZeroTensor.dataType)
    else {
      throw context.failure("a quantized output needs y_scale and an int8/uint8 y_zero_point")
    }
    let realScales = bScale.map { Double(alpha) * Double(aScale) * Double($0) / Double(yScale) }
    let requantizer = Requantizer(
      mode: context.interpreter.options.requantization, scales: Set(scales).count > 1 ? scales : [scales[0]],
      realScales: Set(scales).count > 1 ? realScales : [realScales[0]], zeroPoint: yZero, range: range)
    var result = [Int32](repeating: 0, count: m * n)
    accumulators.withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { target in
        guard let s = source.baseAddress, let t = target.baseAddress else { return }
        for row in 0..<m { requantizer.requantizeColumns(s + row * n, count: n, into: t + row * n) }
      }
    }
    return [QuantizedValues.tensor(result, type: yZeroTensor.dataType, shape: [m, n])]
  }

  static func transpose(_ values: [Int32], rows: Int, columns: Int) -> [Int32] {
    var result = [Int32](repeating: 0, count: values.count)
    for r in 0..<rows {
      for c in 0..<columns { result[c * rows + r] = values[r * columns + c] }
    }
    return result
  }
}
