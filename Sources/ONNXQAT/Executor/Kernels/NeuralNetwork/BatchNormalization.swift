import Foundation

/// BatchNormalization (opsets 1-15), per channel c of X [N, C, ...]:
///
///     Y = (X - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + B[c]
///
/// Inference mode uses the given mean and var. With training_mode = 1 (opset 14+) the mean and
/// (population) variance come from the batch, and the outputs running_mean and running_var are
/// `input * momentum + batch * (1 - momentum)`. Opsets 1-8 with spatial = 0 may carry per-element
/// statistics of shape [C, D1, ...], which are applied element-wise. The older optional
/// training outputs (saved mean and variance) are not produced. Float32 (double, float16 and
/// bfloat16 through float32; opset 15 allows the statistics in another float type than X).
enum BatchNormalizationKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let raw = try context.input(0)
    let x = try NeuralNetworkFloat.input(context, 0, "X")
    let scale = try NeuralNetworkFloat.input(context, 1, "scale")
    let bias = try NeuralNetworkFloat.input(context, 2, "B")
    let mean = try NeuralNetworkFloat.input(context, 3, "input_mean")
    let variance = try NeuralNetworkFloat.input(context, 4, "input_var")
    guard x.rank >= 2 else { throw context.failure("input 0 'X' has shape \(x.shape); expected [N, C, ...]") }
    let epsilon = context.float("epsilon", default: 1e-5)
    let batches = x.shape[0]
    let channels = x.shape[1]
    let spatial = x.shape[2...].reduce(1, *)
    let perElement = scale.count == channels * spatial && spatial > 1 && scale.count != channels
    let statistics = perElement ? channels * spatial : channels
    for (index, (name, tensor)) in [("scale", scale), ("B", bias), ("input_mean", mean), ("input_var", variance)]
      .enumerated() where tensor.count != statistics
    {
      throw context.failure(
        "input \(index + 1) '\(name)' has shape \(tensor.shape); expected [\(channels)] for X \(x.shape)")
    }
    let training = context.opsetVersion >= 14 && context.int("training_mode", default: 0) != 0
    let result = HostTensor(uninitialized: .float, shape: x.shape)
    let px = x.pointer(Float.self)
    let py = result.pointer(Float.self)
    var useMean = mean.values(Float.self)
    var useVariance = variance.values(Float.self)
    var runningMean: HostTensor?
    var runningVariance: HostTensor?
    if training && !perElement {
      let momentum = context.float("momentum", default: 0.9)
      let count = Double(batches * spatial)
      let outMean = HostTensor(zeros: .float, shape: mean.shape)
      let outVariance = HostTensor(zeros: .float, shape: variance.shape)
      for c in 0..<channels {
        var sum = 0.0
        var squares = 0.0
        for n in 0..<batches {
          let plane = px + (n * channels + c) * spatial
          for i in 0..<spatial {
            let value = Double(plane[i])
            sum += value
            squares += value * value
          }
        }
        let batchMean = sum / count
        let batchVariance = max(0, squares / count - batchMean * batchMean)
        outMean.pointer(Float.self)[c] = useMean[c] * momentum + Float(batchMean) * (1 - momentum)
        outVariance.pointer(Float.self)[c] = useVariance[c] * momentum + Float(batchVariance) * (1 - momentum)
        useMean[c] = Float(batchMean)
        useVariance[c] = Float(batchVariance)
      }
      runningMean = NeuralNetworkFloat.output(outMean, as: context.optionalInput(3)?.dataType ?? .float)
      runningVariance = NeuralNetworkFloat.output(outVariance, as: context.optionalInput(4)?.dataType ?? .float)
    }
    let ps = scale.pointer(Float.self)
    let pb = bias.pointer(Float.self)
    if perElement {
      for n in 0..<batches {
        for i in 0..<statistics {
          let factor = ps[i] / (useVariance[i] + epsilon).squareRoot()
          py[n * statistics + i] = (px[n * statistics + i] - useMean[i]) * factor + pb[i]
        }
      }
    } else {
      for n in 0..<batches {
        for c in 0..<channels {
          let (factor, shift) = affine(
            scale: ps[c], bias: pb[c], mean: useMean[c], variance: useVariance[c], epsilon: epsilon)
          let source = px + (n * channels + c) * spatial
          let target = py + (n * channels + c) * spatial
          for i in 0..<spatial { target[i] = normalized(source[i], factor: factor, shift: shift) }
        }
      }
    }
    return [NeuralNetworkFloat.output(result, as: raw.dataType), runningMean, runningVariance]
  }

  /// The per-channel factor and shift of the inference form: `factor = scale / sqrt(var + epsilon)`,
  /// `shift = B - mean * factor` (a fused Conv epilogue computes them through this too).
  @inline(__always)
  static func affine(scale: Float, bias: Float, mean: Float, variance: Float, epsilon: Float) -> (Float, Float) {
    let factor = scale / (variance + epsilon).squareRoot()
    return (factor, bias - mean * factor)
  }

  /// One normalized element, `x * factor + shift` (a rounded product, then a rounded sum).
  @inline(__always)
  static func normalized(_ x: Float, factor: Float, shift: Float) -> Float { x * factor + shift }
}
