import Foundation

/// InstanceNormalization (opsets 1, 6, 22): for each (n, c) of X [N, C, ...], with the mean and
/// (population) variance over the spatial axes,
///
///     Y[n, c, ...] = scale[c] * (X[n, c, ...] - mean) / sqrt(var + epsilon) + B[c]
///
/// Statistics accumulate in double; float32 otherwise (double, float16 and bfloat16 converted).
enum InstanceNormalizationKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let raw = try context.input(0)
    let x = try NeuralNetworkFloat.input(context, 0, "input")
    let scale = try NeuralNetworkFloat.input(context, 1, "scale")
    let bias = try NeuralNetworkFloat.input(context, 2, "B")
    guard x.rank >= 2 else { throw context.failure("input 0 'input' has shape \(x.shape); expected [N, C, ...]") }
    let channels = x.shape[1]
    guard scale.count == channels, bias.count == channels else {
      throw context.failure(
        "inputs 'scale' \(scale.shape) and 'B' \(bias.shape); expected [\(channels)] for input \(x.shape)")
    }
    let epsilon = Double(context.float("epsilon", default: 1e-5))
    let spatial = x.shape[2...].reduce(1, *)
    let result = HostTensor(zeros: .float, shape: x.shape)
    let px = x.pointer(Float.self)
    let py = result.pointer(Float.self)
    let ps = scale.pointer(Float.self)
    let pb = bias.pointer(Float.self)
    for plane in 0..<(x.shape[0] * channels) {
      let c = plane % channels
      let source = px + plane * spatial
      let target = py + plane * spatial
      var sum = 0.0
      for i in 0..<spatial { sum += Double(source[i]) }
      let mean = sum / Double(max(spatial, 1))
      var squares = 0.0
      for i in 0..<spatial {
        let deviation = Double(source[i]) - mean
        squares += deviation * deviation
      }
      let variance = squares / Double(max(spatial, 1))
      let factor = Float(Double(ps[c]) / (variance + epsilon).squareRoot())
      let shift = pb[c] - Float(mean) * factor
      for i in 0..<spatial { target[i] = source[i] * factor + shift }
    }
    return [NeuralNetworkFloat.output(result, as: raw.dataType)]
  }
}
