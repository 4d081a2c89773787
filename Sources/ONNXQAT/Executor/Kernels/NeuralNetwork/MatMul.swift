import Foundation

/// MatMul (opsets 1, 9, 13): NumPy `matmul` on float32 (double, float16 and bfloat16 through
/// float32). `Y[..., i, j] = sum_k A[..., i, k] * B[..., k, j]`; the batch axes broadcast; a 1-D
/// A gets a leading 1 and a 1-D B a trailing 1, both removed from the result.
enum MatMulKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let rawA = try context.input(0)
    let a = try NeuralNetworkFloat.input(context, 0, "A")
    let b = try NeuralNetworkFloat.input(context, 1, "B")
    guard a.rank >= 1, b.rank >= 1 else {
      throw context.failure("inputs have shapes \(a.shape) and \(b.shape); expected rank 1 or more")
    }
    let shapeA = a.rank == 1 ? [1] + a.shape : a.shape
    let shapeB = b.rank == 1 ? b.shape + [1] : b.shape
    let m = shapeA[shapeA.count - 2]
    let k = shapeA[shapeA.count - 1]
    let n = shapeB[shapeB.count - 1]
    guard shapeB[shapeB.count - 2] == k else {
      throw context.failure(
        "input 0 'A' has shape \(a.shape) and input 1 'B' has shape \(b.shape); expected B to have \(k) rows")
    }
    let batchA = Array(shapeA.dropLast(2))
    let batchB = Array(shapeB.dropLast(2))
    let batch: [Int]
    do { batch = try Broadcast.shape([batchA, batchB]) } catch { throw context.failure("batch axes: \(error)") }
    var outputShape = batch
    if a.rank > 1 { outputShape.append(m) }
    if b.rank > 1 { outputShape.append(n) }
    let result = HostTensor(zeros: .float, shape: outputShape)
    let threads = NeuralNetworkFloat.threads(context)
    let pa = a.pointer(Float.self)
    let pb = b.pointer(Float.self)
    let py = result.pointer(Float.self)
    let batchCount = batch.reduce(1, *)
    if batchB.reduce(1, *) == 1 && batchA.count == batch.count && batchCount > 0 {
      // B is shared: the batch of A becomes rows.
      NeuralNetworkGEMM.multiply(
        m: m * batchCount, n: n, k: k, a: NeuralNetworkMatrix(pa, rowStride: k),
        b: NeuralNetworkMatrix(pb, rowStride: n),
        c: py, ldc: n, threads: threads)
    } else {
      Broadcast.forEach(batch, operands: [batchA, batchB]) { index, offsets in
        NeuralNetworkGEMM.multiply(
          m: m, n: n, k: k, a: NeuralNetworkMatrix(pa + offsets[0] * m * k, rowStride: k),
          b: NeuralNetworkMatrix(pb + offsets[1] * k * n, rowStride: n), c: py + index * m * n, ldc: n,
          threads: threads)
      }
    }
    return [NeuralNetworkFloat.output(result, as: rawA.dataType)]
  }
}
