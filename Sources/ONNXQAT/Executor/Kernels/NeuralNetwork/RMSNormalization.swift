import Foundation

/// RMSNormalization (opset 23): over the axes from `axis` (default -1) to the last one,
///
///     Y = X / sqrt(mean(X^2) + epsilon) * Scale
///
/// with Scale broadcast to the normalized shape X.shape[axis...]. Sums accumulate in double
/// (stash_type 1); float32 otherwise (double, float16 and bfloat16 converted).
enum RMSNormalizationKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let raw = try context.input(0)
    let x = try NeuralNetworkFloat.input(context, 0, "X")
    let scale = try NeuralNetworkFloat.input(context, 1, "scale")
    var axis = context.int("axis", default: -1)
    if axis < 0 { axis += x.rank }
    guard axis >= 0, axis < max(x.rank, 1) else {
      throw context.failure("axis \(context.int("axis", default: -1)) is out of range for X \(x.shape)")
    }
    let normalizedShape = Array(x.shape[axis...])
    guard scale.rank <= normalizedShape.count,
      (try? Broadcast.shape([scale.shape, normalizedShape])) == normalizedShape
    else {
      throw context.failure("input 1 'scale' has shape \(scale.shape); expected it to broadcast to \(normalizedShape)")
    }
    let size = normalizedShape.reduce(1, *)
    var fullScale = [Float](repeating: 0, count: size)
    let ps = scale.pointer(Float.self)
    Broadcast.forEach(normalizedShape, operands: [scale.shape]) { index, offsets in fullScale[index] = ps[offsets[0]] }
    let epsilon = Double(context.float("epsilon", default: 1e-5))
    let result = HostTensor(zeros: .float, shape: x.shape)
    let px = x.pointer(Float.self)
    let py = result.pointer(Float.self)
    for row in 0..<x.shape[..<axis].reduce(1, *) {
      let source = px + row * size
      let target = py + row * size
      var squares = 0.0
      for i in 0..<size { squares += Double(source[i]) * Double(source[i]) }
      let inverse = Float(1 / (squares / Double(max(size, 1)) + epsilon).squareRoot())
      for i in 0..<size { target[i] = source[i] * inverse * fullScale[i] }
    }
    return [NeuralNetworkFloat.output(result, as: raw.dataType)]
  }
}
