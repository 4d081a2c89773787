import Foundation

/// LayerNormalization (opset 17): normalizes X over the axes from `axis` (default -1) to the
/// last one,
///
///     Mean = mean(X), InvStdDev = 1 / sqrt(var(X) + epsilon)     (over the normalized axes)
///     Y = (X - Mean) * InvStdDev * Scale + B
///
/// Scale and the optional B broadcast to the normalized shape X.shape[axis...]. The optional
/// outputs Mean and InvStdDev have X's shape with the normalized axes set to 1, in float32
/// (`stash_type` 1, the only value defined). Statistics accumulate in double; X of type double,
/// float16 or bfloat16 is computed in float32.
enum LayerNormalizationKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let raw = try context.input(0)
    let x = try NeuralNetworkFloat.input(context, 0, "X")
    let scale = try NeuralNetworkFloat.input(context, 1, "Scale")
    let bias = try NeuralNetworkFloat.optionalInput(context, 2, "B")
    let rank = x.rank
    var axis = context.int("axis", default: -1)
    if axis < 0 { axis += rank }
    guard axis >= 0, axis < max(rank, 1) else {
      throw context.failure("axis \(context.int("axis", default: -1)) is out of range for X \(x.shape)")
    }
    let normalizedShape = Array(x.shape[axis...])
    let size = normalizedShape.reduce(1, *)
    let rows = x.shape[..<axis].reduce(1, *)
    func expanded(_ tensor: HostTensor, _ name: String) throws -> [Float] {
      guard tensor.rank <= normalizedShape.count,
        (try? Broadcast.shape([tensor.shape, normalizedShape])) == normalizedShape
      else {
        throw context.failure(
          "input '\(name)' has shape \(tensor.shape); expected it to broadcast to \(normalizedShape)")
      }
      return expand(tensor, normalizedShape)
    }
    // Scale and B expanded to the normalized shape once.
    let fullScale = try expanded(scale, "Scale")
    let fullBias = try bias.map { try expanded($0, "B") }
    let epsilon = Double(context.float("epsilon", default: 1e-5))
    let result = HostTensor(zeros: .float, shape: x.shape)
    let statisticsShape = Array(x.shape[..<axis]) + Array(repeating: 1, count: rank - axis)
    let meanTensor = HostTensor(zeros: .float, shape: statisticsShape)
    let inverseTensor = HostTensor(zeros: .float, shape: statisticsShape)
    let px = x.pointer(Float.self)
    let py = result.pointer(Float.self)
    for row in 0..<rows {
      let source = px + row * size
      let target = py + row * size
      var sum = 0.0
      for i in 0..<size { sum += Double(source[i]) }
      let mean = sum / Double(max(size, 1))
      var squares = 0.0
      for i in 0..<size {
        let deviation = Double(source[i]) - mean
        squares += deviation * deviation
      }
      let inverse = 1 / (squares / Double(max(size, 1)) + epsilon).squareRoot()
      meanTensor.pointer(Float.self)[row] = Float(mean)
      inverseTensor.pointer(Float.self)[row] = Float(inverse)
      let m = Float(mean)
      let s = Float(inverse)
      if let fullBias {
        for i in 0..<size { target[i] = (source[i] - m) * s * fullScale[i] + fullBias[i] }
      } else {
        for i in 0..<size { target[i] = (source[i] - m) * s * fullScale[i] }
      }
    }
    return [NeuralNetworkFloat.output(result, as: raw.dataType), meanTensor, inverseTensor]
  }

  private static func expand(_ tensor: HostTensor, _ shape: [Int]) -> [Float] {
    let source = tensor.pointer(Float.self)
    var values = [Float](repeating: 0, count: shape.reduce(1, *))
    Broadcast.forEach(shape, operands: [tensor.shape]) { index, offsets in values[index] = source[offsets[0]] }
    return values
  }
}
