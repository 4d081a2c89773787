import Foundation

/// MatMulInteger (opset 10): `y = (a - a_zero_point) @ (b - b_zero_point)` as int32, with
/// NumPy matmul broadcasting. a, b: int8 or uint8. `a_zero_point` is a scalar or per row of `a`
/// (shape [M]); `b_zero_point` a scalar or per column of `b` (shape [N]).
enum MatMulIntegerKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let a = try context.input(0)
    let b = try context.input(1)
    let shape = try IntegerGemm.shape(a.shape, b.shape, context: context)
    let aZero = try zeroPoints(context.optionalInput(2), count: shape.m, name: "a_zero_point", context: context)
    let bZero = try zeroPoints(context.optionalInput(3), count: shape.n, name: "b_zero_point", context: context)
    guard
      let result = try multiply(
        a, aZero, b, bZero, shape: shape, threads: Swift.max(1, context.interpreter.options.threads))
    else {
      throw context.failure("expected integer inputs, got \(a.typeDescription) and \(b.typeDescription)")
    }
    return [HostTensor(.int32, shape: shape.output, values: result)]
  }

  /// A scalar zero point repeated, or a vector of `count` (per row or per column).
  static func zeroPoints(_ tensor: HostTensor?, count: Int, name: String, context: KernelContext) throws -> [Int32] {
    guard let tensor else { return [Int32](repeating: 0, count: count) }
    guard let values = QuantizedValues.int32s(tensor) else {
      throw context.failure("\(name) must be an integer tensor, got \(tensor.typeDescription)")
    }
    if values.count == 1 { return [Int32](repeating: values[0], count: count) }
    guard values.count == count else {
      throw context.failure("\(name) must be a scalar or have \(count) elements, got shape \(tensor.shape)")
    }
    return values
  }

  /// The int32 batched product of tensors `a` and `b` with zero points subtracted (per row of A,
  /// per column of B): Int8Gemm for 8-bit operands, else the Int32 path; nil when an operand is
  /// not an integer tensor.
  static func multiply(
    _ a: HostTensor, _ aZero: [Int32], _ b: HostTensor, _ bZero: [Int32], shape: IntegerGemm.Shape, threads: Int
  ) throws -> [Int32]? {
    guard Int8Gemm.accepts(a.dataType), Int8Gemm.accepts(b.dataType) else {
      guard let aValues = QuantizedValues.int32s(a), let bValues = QuantizedValues.int32s(b) else { return nil }
      return try multiply(aValues, aZero, bValues, bZero, shape: shape, threads: threads)
    }
    let (m, k, n) = (shape.m, shape.k, shape.n)
    let count = shape.aBatches.count * m * n
    var result = [Int32](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    let (aBase, bBase) = (UnsafeRawPointer(a.pointer(UInt8.self)), UnsafeRawPointer(b.pointer(UInt8.self)))
    result.withUnsafeMutableBufferPointer { buffer in
      guard let c = buffer.baseAddress else { return }
      for (index, (aBatch, bBatch)) in zip(shape.aBatches, shape.bBatches).enumerated() {
        Int8Gemm.multiply(
          Int8Gemm.Operand(base: aBase + aBatch * m * k, isSigned: a.dataType == .int8, rowStride: k),
          aZero: Set(aZero).count == 1 ? [aZero[0]] : aZero,
          Int8Gemm.Operand(base: bBase + bBatch * k * n, isSigned: b.dataType == .int8, rowStride: n),
          bZero: Set(bZero).count == 1 ? [bZero[0]] : bZero, m: m, k: k, n: n, into: c + index * m * n, ldc: n,
          threads: threads)
      }
    }
    return result
  }

  /// The int32 batched product with zero points subtracted (per row of A, per column of B), on up
  /// to `threads` threads.
  static func multiply(
    _ a: [Int32], _ aZero: [Int32], _ b: [Int32], _ bZero: [Int32], shape: IntegerGemm.Shape, threads: Int = 1
  ) throws -> [Int32] {
    let (m, k, n) = (shape.m, shape.k, shape.n)
    var aShifted = [Int32](repeating: 0, count: a.count)
    for i in 0..<a.count { aShifted[i] = a[i] &- aZero[(i / max(k, 1)) % max(m, 1)] }
    var bShifted = [Int32](repeating: 0, count: b.count)
    for i in 0..<b.count { bShifted[i] = b[i] &- bZero[i % max(n, 1)] }
    var result = [Int32](repeating: 0, count: shape.aBatches.count * m * n)
    aShifted.withUnsafeBufferPointer { pa in
      bShifted.withUnsafeBufferPointer { pb in
        result.withUnsafeMutableBufferPointer { pc in
          guard let baseA = pa.baseAddress, let baseB = pb.baseAddress, let baseC = pc.baseAddress else { return }
          for (index, (aBatch, bBatch)) in zip(shape.aBatches, shape.bBatches).enumerated() {
            IntegerGemm.multiply(
              baseA + aBatch * m * k, baseB + bBatch * k * n, baseC + index * m * n, m: m, k: k, n: n,
              threads: threads)
          }
        }
      }
    }
    return result
  }
}
