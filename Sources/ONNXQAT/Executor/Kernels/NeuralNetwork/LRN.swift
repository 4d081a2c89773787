import Foundation

/// LRN (opsets 1, 13): local response normalization across channels of X [N, C, ...]:
///
///     square_sum[n, c, ...] = sum of X[n, i, ...]^2 for i in
///                             max(0, c - floor((size-1)/2)) ... min(C-1, c + ceil((size-1)/2))
///     Y = X / (bias + alpha / size * square_sum)^beta
///
/// with `size` required and alpha 1e-4, beta 0.75, bias 1 by default. Float32 (double, float16
/// and bfloat16 through float32).
enum LRNKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let raw = try context.input(0)
    let x = try NeuralNetworkFloat.input(context, 0, "X")
    guard x.rank >= 2 else { throw context.failure("input 0 'X' has shape \(x.shape); expected [N, C, ...]") }
    guard let size = context.int("size"), size > 0 else {
      throw context.failure(
        "the 'size' attribute is \(context.int("size").map(String.init) ?? "missing"); expected a positive size")
    }
    let alpha = context.float("alpha", default: 1e-4)
    let beta = context.float("beta", default: 0.75)
    let bias = context.float("bias", default: 1)
    let channels = x.shape[1]
    let spatial = x.shape[2...].reduce(1, *)
    let below = (size - 1) / 2
    let above = size - 1 - below
    let result = HostTensor(zeros: .float, shape: x.shape)
    let px = x.pointer(Float.self)
    let py = result.pointer(Float.self)
    let scale = alpha / Float(size)
    var sums = [Float](repeating: 0, count: spatial)
    for n in 0..<x.shape[0] {
      let image = px + n * channels * spatial
      let target = py + n * channels * spatial
      for c in 0..<channels {
        for i in 0..<spatial { sums[i] = 0 }
        for neighbour in max(0, c - below)...min(channels - 1, c + above) {
          let plane = image + neighbour * spatial
          for i in 0..<spatial { sums[i] += plane[i] * plane[i] }
        }
        let plane = image + c * spatial
        let out = target + c * spatial
        for i in 0..<spatial { out[i] = plane[i] / pow(bias + scale * sums[i], beta) }
      }
    }
    return [NeuralNetworkFloat.output(result, as: raw.dataType)]
  }
}
