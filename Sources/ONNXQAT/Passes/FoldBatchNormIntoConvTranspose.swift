import Foundation

/// Folds an inference BatchNormalization into the ConvTranspose that feeds it, group by group.
///
/// ConvTranspose's weight is [C, M/g, k...] for C input channels, M output channels and g groups.
/// Output channel o = gi * (M/g) + j (group gi, index j within the group) is computed from the
/// kernel slice `W[gi * (C/g) ..< (gi + 1) * (C/g), j, ...]` and bias b[o]. With m and s from
/// `BatchNormAffine`:
///
///     W'[ci, j, ...] = W[ci, j, ...] * m[gi * (M/g) + j]     where gi = ci / (C/g)
///     b'[o]          = b[o] * m[o] + s[o]                    (b = 0 when absent)
///
/// computed in Double and stored as Float.
///
/// Before:
///
///     t = ConvTranspose <group: int = 2, strides: ints = [2, 2]> (x, w, b)
///     y = BatchNormalization (t, scale, bias, mean, var)
///
/// After:
///
///     y = ConvTranspose <group: int = 2, strides: ints = [2, 2]> (x, w_folded, b_folded)
///
/// As in `FoldBatchNormIntoConv`, the folded weight and bias are new initializers, so a weight
/// shared with another node stays as it is for that node; unused old ones are removed.
///
/// Skip cases 1 to 6 are `BatchNormAffine`'s; this rule adds:
/// 7. the ConvTranspose's output has another use or is a graph output.
/// 8. the weight is not a constant float32 initializer of rank 3 or more, [C, M/g, k...] with C
///    divisible by the group count g and (M/g) * g equal to the BatchNormalization's channel count.
/// 9. the bias is not a constant float32 initializer of shape [M].
public struct FoldBatchNormIntoConvTranspose: RewriteRule {
  public let name = "fold-batchnorm-into-conv-transpose"

  public init() {}

  public func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard BatchNormAffine.isBatchNorm(node), let x = node.input(0), let convT = x.producer,
      convT.opType == "ConvTranspose", convT.isStandard, convT.graph === graph
    else { return .noMatch }
    let affine: BatchNormAffine
    switch BatchNormAffine.read(node, in: graph, model: model) {
    case .refused(let reason): return .refused(reason)
    case .affine(let read): affine = read
    }
    let label = BatchNormAffine.describe(convT)
    guard x.soleUser === node else {
      return .refused("skip 7: output '\(x.name)' of \(label) has other uses or is a graph output")
    }
    let channels = affine.channels
    let groups = Int(convT.int("group", default: 1))
    guard let w = convT.input(1), let weight = BatchNormAffine.float32Constant(w, model: model),
      weight.shape.count >= 3, groups > 0, weight.shape[0] % groups == 0, weight.shape[1] * groups == channels
    else {
      return .refused(
        "skip 8: weight of \(label) is not a constant float32 initializer of shape [C, \(channels)/group, k...]"
          + " with group \(groups)")
    }
    var bias = [Float](repeating: 0, count: channels)
    let oldBias = convT.input(2)
    if let b = oldBias {
      guard let read = BatchNormAffine.float32Constant(b, model: model), read.shape == [channels] else {
        return .refused(
          "skip 9: bias '\(b.name)' of \(label) is not a constant float32 initializer of shape [\(channels)]")
      }
      bias = read.values
    }
    let inputChannels = weight.shape[0]
    let perGroupIn = inputChannels / groups
    let perGroupOut = weight.shape[1]
    let kernel = weight.shape[2...].reduce(1, *)
    var folded = [Double](repeating: 0, count: weight.values.count)
    for ci in 0..<inputChannels {
      for j in 0..<perGroupOut {
        let m = affine.multiplier[(ci / perGroupIn) * perGroupOut + j]
        let start = (ci * perGroupOut + j) * kernel
        for i in start..<(start + kernel) { folded[i] = Double(weight.values[i]) * m }
      }
    }
    let foldedBias = (0..<channels).map { Double(bias[$0]) * affine.multiplier[$0] + affine.shift[$0] }
    return .rewrite { rewriter in
      try BatchNormAffine.setWeightAndBias(
        of: convT, weight: BatchNormAffine.floatTensor(folded, shape: weight.shape),
        bias: BatchNormAffine.floatTensor(foldedBias, shape: [channels]), rewriter: rewriter)
      try affine.replace(with: x, rewriter: rewriter, alsoRemoving: [w] + (oldBias.map { [$0] } ?? []))
    }
  }
}
