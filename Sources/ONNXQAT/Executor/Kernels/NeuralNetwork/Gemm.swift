import Foundation

/// Gemm (opsets 1-13): `Y = alpha * A' * B' + beta * C`, where A' is A or its transpose
/// (`transA`), B' is B or its transpose (`transB`), and C broadcasts to [M, N] (optional from
/// opset 11; the opset 1-6 `broadcast` attribute is accepted since broadcasting is always done).
/// Float32 (double, float16 and bfloat16 through float32).
enum GemmKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let rawA = try context.input(0)
    let a = try NeuralNetworkFloat.input(context, 0, "A")
    let b = try NeuralNetworkFloat.input(context, 1, "B")
    let c = try NeuralNetworkFloat.optionalInput(context, 2, "C")
    guard a.rank == 2, b.rank == 2 else {
      throw context.failure("inputs 'A' \(a.shape) and 'B' \(b.shape); expected two matrices")
    }
    let transA = context.int("transA", default: 0) != 0
    let transB = context.int("transB", default: 0) != 0
    let alpha = context.float("alpha", default: 1)
    let beta = context.float("beta", default: 1)
    let m = transA ? a.shape[1] : a.shape[0]
    let k = transA ? a.shape[0] : a.shape[1]
    let kB = transB ? b.shape[1] : b.shape[0]
    let n = transB ? b.shape[0] : b.shape[1]
    guard k == kB else {
      throw context.failure(
        "A\(transA ? "'" : "") has \(k) columns but B\(transB ? "'" : "") has \(kB) rows (A \(a.shape), B \(b.shape))")
    }
    let result = HostTensor(zeros: .float, shape: [m, n])
    let py = result.pointer(Float.self)
    if let c, beta != 0 {
      guard c.rank <= 2, (try? Broadcast.shape([c.shape, [m, n]])) == [m, n] else {
        throw context.failure("input 2 'C' has shape \(c.shape); expected it to broadcast to [\(m),\(n)]")
      }
      let strides = Broadcast.strides(of: c.shape, in: [m, n])
      let pc = c.pointer(Float.self)
      for i in 0..<m {
        for j in 0..<n { py[i * n + j] = beta * pc[i * strides[0] + j * strides[1]] }
      }
    }
    var matrixA = NeuralNetworkMatrix(a.pointer(Float.self), rowStride: a.shape[1])
    if transA { matrixA = matrixA.transposed }
    var matrixB = NeuralNetworkMatrix(b.pointer(Float.self), rowStride: b.shape[1])
    if transB { matrixB = matrixB.transposed }
    NeuralNetworkGEMM.multiply(
      m: m, n: n, k: k, alpha: alpha, a: matrixA, b: matrixB, c: py, ldc: n,
      threads: NeuralNetworkFloat.threads(context))
    return [NeuralNetworkFloat.output(result, as: rawA.dataType)]
  }
}
