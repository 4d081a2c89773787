import Foundation

/// The activation functions the recurrent ops (RNN, GRU, LSTM) name in their `activations`
/// attribute, applied in place to a run of floats (the switch is outside the loop):
/// Sigmoid, Tanh, Relu, Affine (alpha*x + beta), LeakyRelu (alpha), ThresholdedRelu (alpha),
/// ScaledTanh (alpha*tanh(beta*x)), HardSigmoid (max(0, min(1, alpha*x + beta))), Elu (alpha),
/// Softsign and Softplus. Alphas and betas are taken in order by the functions that use them.
/// Sigmoid and Tanh run eight lanes at a time (VectorExponential, within a few ulp of libm).
enum RecurrentActivation {
  case sigmoid, tanh, relu, softsign, softplus
  case affine(Float, Float), leakyRelu(Float), thresholdedRelu(Float), scaledTanh(Float, Float)
  case hardSigmoid(Float, Float), elu(Float)

  /// The activations of `names`, taking parameters from `alphas` and `betas` in order.
  static func parse(_ names: [String], alphas: [Float], betas: [Float], _ context: KernelContext) throws
    -> [RecurrentActivation]
  {
    var alphaIndex = 0
    var betaIndex = 0
    func alpha(_ fallback: Float) -> Float {
      defer { alphaIndex += 1 }
      return alphaIndex < alphas.count ? alphas[alphaIndex] : fallback
    }
    func beta(_ fallback: Float) -> Float {
      defer { betaIndex += 1 }
      return betaIndex < betas.count ? betas[betaIndex] : fallback
    }
    return try names.map { name in
      switch name.lowercased() {
      case "sigmoid": return .sigmoid
      case "tanh": return .tanh
      case "relu": return .relu
      case "softsign": return .softsign
      case "softplus": return .softplus
      case "affine": return .affine(alpha(1), beta(0))
      case "leakyrelu": return .leakyRelu(alpha(0.01))
      case "thresholdedrelu": return .thresholdedRelu(alpha(1))
      case "scaledtanh": return .scaledTanh(alpha(1), beta(1))
      case "hardsigmoid": return .hardSigmoid(alpha(0.2), beta(0.5))
      case "elu": return .elu(alpha(1))
      default:
        throw context.failure(
          "activation '\(name)'; expected Sigmoid, Tanh, Relu, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, "
            + "HardSigmoid, Elu, Softsign or Softplus")
      }
    }
  }

  func apply(_ values: UnsafeMutablePointer<Float>, _ count: Int) {
    switch self {
    case .sigmoid: VectorExponential.apply(values, count, VectorExponential.sigmoid)
    case .tanh: VectorExponential.apply(values, count, VectorExponential.tanh)
    case .relu: for i in 0..<count { values[i] = max(0, values[i]) }
    case .softsign: for i in 0..<count { values[i] = values[i] / (1 + abs(values[i])) }
    case .softplus: for i in 0..<count { values[i] = Foundation.log1p(Foundation.exp(values[i])) }
    case .affine(let alpha, let beta): for i in 0..<count { values[i] = alpha * values[i] + beta }
    case .leakyRelu(let alpha): for i in 0..<count { values[i] = values[i] >= 0 ? values[i] : alpha * values[i] }
    case .thresholdedRelu(let alpha): for i in 0..<count { values[i] = values[i] > alpha ? values[i] : 0 }
    case .scaledTanh(let alpha, let beta): for i in 0..<count { values[i] = alpha * Foundation.tanh(beta * values[i]) }
    case .hardSigmoid(let alpha, let beta): for i in 0..<count { values[i] = max(0, min(1, alpha * values[i] + beta)) }
    case .elu(let alpha):
      for i in 0..<count { values[i] = values[i] >= 0 ? values[i] : alpha * (Foundation.exp(values[i]) - 1) }
    }
  }
}
