import Foundation

/// GroupNormalization (opsets 18, 21): the C channels of X [N, C, ...] form `num_groups` groups;
/// each (n, group) is normalized over its channels and spatial positions,
///
///     Y = scale * (X - mean) / sqrt(var + epsilon) + bias
///
/// with scale and bias per group (opset 18, shape [num_groups]) or per channel (opset 21,
/// shape [C]). Statistics accumulate in double (stash_type 1); float32 otherwise (double,
/// float16 and bfloat16 converted).
enum GroupNormalizationKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let raw = try context.input(0)
    let x = try NeuralNetworkFloat.input(context, 0, "X")
    let scale = try NeuralNetworkFloat.input(context, 1, "scale")
    let bias = try NeuralNetworkFloat.input(context, 2, "bias")
    guard x.rank >= 2 else { throw context.failure("input 0 'X' has shape \(x.shape); expected [N, C, ...]") }
    let channels = x.shape[1]
    guard let groups = context.int("num_groups"), groups > 0, channels % groups == 0 else {
      throw context.failure(
        "num_groups \(context.int("num_groups").map(String.init) ?? "missing"); expected a divisor of \(channels)")
    }
    let perChannel = scale.count == channels
    guard (perChannel || scale.count == groups), bias.count == scale.count else {
      throw context.failure(
        "inputs 'scale' \(scale.shape) and 'bias' \(bias.shape); expected [\(channels)] (or [\(groups)] at opset 18)")
    }
    let epsilon = Double(context.float("epsilon", default: 1e-5))
    let spatial = x.shape[2...].reduce(1, *)
    let groupChannels = channels / groups
    let size = groupChannels * spatial
    let result = HostTensor(zeros: .float, shape: x.shape)
    let px = x.pointer(Float.self)
    let py = result.pointer(Float.self)
    let ps = scale.pointer(Float.self)
    let pb = bias.pointer(Float.self)
    for block in 0..<(x.shape[0] * groups) {
      let group = block % groups
      let source = px + block * size
      let target = py + block * size
      var sum = 0.0
      for i in 0..<size { sum += Double(source[i]) }
      let mean = sum / Double(max(size, 1))
      var squares = 0.0
      for i in 0..<size {
        let deviation = Double(source[i]) - mean
        squares += deviation * deviation
      }
      let inverse = Float(1 / (squares / Double(max(size, 1)) + epsilon).squareRoot())
      for channel in 0..<groupChannels {
        let index = perChannel ? group * groupChannels + channel : group
        let factor = ps[index] * inverse
        let shift = pb[index] - Float(mean) * factor
        let offset = channel * spatial
        for i in 0..<spatial { target[offset + i] = source[offset + i] * factor + shift }
      }
    }
    return [NeuralNetworkFloat.output(result, as: raw.dataType)]
  }
}
