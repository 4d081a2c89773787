import Foundation

/// Folds an inference BatchNormalization into the Conv that feeds it (weight and bias absorb it).
///
/// With m and s from `BatchNormAffine`, for output channel o of `Conv(X, W, b)`:
///
///     BN(Conv(X, W, b))[o] = (W[o] * X + b[o]) * m[o] + s[o]
///                          = (W[o] * m[o]) * X + (b[o] * m[o] + s[o])
///
/// so `W'[o, ...] = W[o, ...] * m[o]` and `b'[o] = b[o] * m[o] + s[o]` (b = 0 when the Conv has
/// none), computed in Double and stored as Float.
///
/// Before:
///
///     c = Conv <group: int = 1> (x, w, b)
///     y = BatchNormalization (c, scale, bias, mean, var)
///
/// After:
///
///     y = Conv <group: int = 1> (x, w_folded, b_folded)
///
/// The folded weight and bias are new initializers; the old ones are removed when nothing else
/// uses them. A weight shared with another node is therefore left as it is for that node (the
/// graph holds both versions); no shared initializer is ever changed.
///
/// Skip cases 1 to 6 are `BatchNormAffine`'s; this rule adds:
/// 7. the Conv's output has another use or is a graph output.
/// 8. the weight is not a constant float32 initializer of rank 3 or more whose first dimension is C.
/// 9. the bias is not a constant float32 initializer of shape [C].
public struct FoldBatchNormIntoConv: RewriteRule {
  public let name = "fold-batchnorm-into-conv"

  public init() {}

  public func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard BatchNormAffine.isBatchNorm(node), let x = node.input(0), let conv = x.producer,
      conv.opType == "Conv", conv.isStandard, conv.graph === graph
    else { return .noMatch }
    let affine: BatchNormAffine
    switch BatchNormAffine.read(node, in: graph, model: model) {
    case .refused(let reason): return .refused(reason)
    case .affine(let read): affine = read
    }
    let label = BatchNormAffine.describe(conv)
    guard x.soleUser === node else {
      return .refused("skip 7: output '\(x.name)' of \(label) has other uses or is a graph output")
    }
    let channels = affine.channels
    guard let w = conv.input(1), let weight = BatchNormAffine.float32Constant(w, model: model),
      weight.shape.count >= 3, weight.shape[0] == channels
    else {
      return .refused(
        "skip 8: weight of \(label) is not a constant float32 initializer of shape [\(channels), C/group, k...]")
    }
    var bias = [Float](repeating: 0, count: channels)
    let oldBias = conv.input(2)
    if let b = oldBias {
      guard let read = BatchNormAffine.float32Constant(b, model: model), read.shape == [channels] else {
        return .refused(
          "skip 9: bias '\(b.name)' of \(label) is not a constant float32 initializer of shape [\(channels)]")
      }
      bias = read.values
    }
    let kernel = weight.values.count / channels
    var folded = [Double](repeating: 0, count: weight.values.count)
    for o in 0..<channels {
      for i in 0..<kernel { folded[o * kernel + i] = Double(weight.values[o * kernel + i]) * affine.multiplier[o] }
    }
    let foldedBias = (0..<channels).map { Double(bias[$0]) * affine.multiplier[$0] + affine.shift[$0] }
    return .rewrite { rewriter in
      try BatchNormAffine.setWeightAndBias(
        of: conv, weight: BatchNormAffine.floatTensor(folded, shape: weight.shape),
        bias: BatchNormAffine.floatTensor(foldedBias, shape: [channels]), rewriter: rewriter)
      try affine.replace(with: x, rewriter: rewriter, alsoRemoving: [w] + (oldBias.map { [$0] } ?? []))
    }
  }
}
