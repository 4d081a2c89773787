import Foundation

/// MatMul (opsets 1, 9, 13): NumPy `matmul` on float32 (double, float16 and bfloat16 through
/// float32). `Y[..., i, j] = sum_k A[..., i, k] * B[..., k, j]`; the batch axes broadcast; a 1-D
/// A gets a leading 1 and a 1-D B a trailing 1, both removed from the result. int32, int64,
/// uint32 and uint64 (opset 9+) take a direct loop with wrapping arithmetic.
enum MatMulKernel {
  /// Runs the node; `packing` keeps a constant B packed across runs (`PackedMatMulWeights`).
  static func run(_ context: KernelContext, packing: PackedMatMulWeights? = nil) throws -> [HostTensor?] {
    let rawA = try context.input(0)
    switch rawA.dataType {
    case .int32: return try integer(context, Int32.self)
    case .int64: return try integer(context, Int64.self)
    case .uint32: return try integer(context, UInt32.self)
    case .uint64: return try integer(context, UInt64.self)
    default: break
    }
    let a = try NeuralNetworkFloat.input(context, 0, "A")
    let b = try NeuralNetworkFloat.input(context, 1, "B")
    guard a.rank >= 1, b.rank >= 1 else {
      throw context.failure("inputs have shapes \(a.shape) and \(b.shape); expected rank 1 or more")
    }
    let (m, k, n, batchA, batchB, batch, outputShape) = try shapes(a.shape, b.shape, context)
    let result = HostTensor(zeros: .float, shape: outputShape)
    let threads = NeuralNetworkFloat.threads(context)
    let pa = a.pointer(Float.self)
    let pb = b.pointer(Float.self)
    let py = result.pointer(Float.self)
    let batchCount = batch.reduce(1, *)
    if batchB.reduce(1, *) == 1 && batchA.count == batch.count && batchCount > 0 {
      // B is shared: the batch of A becomes rows. A constant float32 B is packed once per plan
      // (same bits: `multiplyPacked` sums in the order of `multiply` for the shapes it blocks).
      let rows = m * batchCount
      if let packing, b.dataType == .float, try context.input(1).dataType == .float,
        NeuralNetworkGEMM.isBlocked(m: rows, n: n, k: k), let packed = packing.packed(b, k: k, n: n)
      {
        withExtendedLifetime(packed) {
          NeuralNetworkGEMM.multiplyPacked(
            m: rows, a: NeuralNetworkPackedA(NeuralNetworkMatrix(pa, rowStride: k), m: rows, k: k),
            b: packed.values, layout: packed.layout, c: py, ldc: n, threads: threads)
        }
        return [NeuralNetworkFloat.output(result, as: rawA.dataType)]
      }
      NeuralNetworkGEMM.multiply(
        m: m * batchCount, n: n, k: k, a: NeuralNetworkMatrix(pa, rowStride: k),
        b: NeuralNetworkMatrix(pb, rowStride: n),
        c: py, ldc: n, threads: threads)
    } else {
      // Products of the batch: (A offset, B offset) per output matrix, in output order.
      var pairs: [(Int, Int)] = []
      pairs.reserveCapacity(batchCount)
      Broadcast.forEach(batch, operands: [batchA, batchB]) { _, offsets in pairs.append((offsets[0], offsets[1])) }
      // Many small products (attention heads) go to the threads whole, one product per task, which
      // spares each product the GEMM's own split; a few large ones are split inside the GEMM.
      let perProduct = pairs.count >= 2 * threads && m * n * k < 1 << 22
      let product = { (index: Int) in
        let (offsetA, offsetB) = pairs[index]
        NeuralNetworkGEMM.multiply(
          m: m, n: n, k: k, a: NeuralNetworkMatrix(pa + offsetA * m * k, rowStride: k),
          b: NeuralNetworkMatrix(pb + offsetB * k * n, rowStride: n), c: py + index * m * n, ldc: n,
          threads: perProduct ? 1 : threads)
      }
      if perProduct && threads > 1 {
        ParallelWork.perform(iterations: threads) { worker in
          for index in (worker * pairs.count / threads)..<((worker + 1) * pairs.count / threads) { product(index) }
        }
      } else {
        for index in pairs.indices { product(index) }
      }
    }
    return [NeuralNetworkFloat.output(result, as: rawA.dataType)]
  }

  /// Matrix sizes, batch shapes and output shape of A x B (1-D operands promoted).
  private static func shapes(_ a: [Int], _ b: [Int], _ context: KernelContext) throws -> (
    m: Int, k: Int, n: Int, batchA: [Int], batchB: [Int], batch: [Int], output: [Int]
  ) {
    let shapeA = a.count == 1 ? [1] + a : a
    let shapeB = b.count == 1 ? b + [1] : b
    let m = shapeA[shapeA.count - 2]
    let k = shapeA[shapeA.count - 1]
    let n = shapeB[shapeB.count - 1]
    guard shapeB[shapeB.count - 2] == k else {
      throw context.failure("input 0 'A' has shape \(a) and input 1 'B' has shape \(b); expected B to have \(k) rows")
    }
    let batchA = Array(shapeA.dropLast(2))
    let batchB = Array(shapeB.dropLast(2))
    let batch: [Int]
    do { batch = try Broadcast.shape([batchA, batchB]) } catch { throw context.failure("batch axes: \(error)") }
    var output = batch
    if a.count > 1 { output.append(m) }
    if b.count > 1 { output.append(n) }
    return (m, k, n, batchA, batchB, batch, output)
  }

  /// Integer MatMul: `Y = A x B` with wrapping multiply-add in T.
  private static func integer<T: FixedWidthInteger>(_ context: KernelContext, _: T.Type) throws -> [HostTensor?] {
    let a = try context.input(0)
    let b = try context.input(1)
    guard a.rank >= 1, b.rank >= 1, b.dataType == a.dataType else {
      throw context.failure("inputs are \(a.typeDescription) and \(b.typeDescription); expected the same type, rank 1+")
    }
    let (m, k, n, batchA, batchB, batch, outputShape) = try shapes(a.shape, b.shape, context)
    let result = HostTensor(zeros: a.dataType, shape: outputShape)
    let pa = a.pointer(T.self)
    let pb = b.pointer(T.self)
    let py = result.pointer(T.self)
    Broadcast.forEach(batch, operands: [batchA, batchB]) { index, offsets in
      let sa = pa + offsets[0] * m * k
      let sb = pb + offsets[1] * k * n
      let sy = py + index * m * n
      for i in 0..<m {
        for p in 0..<k {
          let value = sa[i * k + p]
          for j in 0..<n { sy[i * n + j] &+= value &* sb[p * n + j] }
        }
      }
    }
    return [result]
  }
}
