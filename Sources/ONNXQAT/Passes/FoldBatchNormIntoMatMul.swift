import Foundation

/// Folds an inference BatchNormalization over a 2-D MatMul output into the MatMul's constant
/// weight and a following Add of the shift.
///
/// `Y = A * W` with W constant [K, N]. The BatchNormalization's channel axis is axis 1 of its
/// input; that is Y's last axis (the one W's columns make) only when Y is 2-D, [batch, N]. Then,
/// with m and s from `BatchNormAffine`:
///
///     BN(Y)[:, n] = A * (W[:, n] * m[n]) + s[n]
///
/// so `W'[k, n] = W[k, n] * m[n]` (Double, stored as Float) and an Add of the constant s of
/// shape [N] follows the MatMul (MatMul has no bias input).
///
/// Before:
///
///     p = MatMul (a, w)
///     y = BatchNormalization (p, scale, bias, mean, var)
///
/// After:
///
///     p = MatMul (a, w_folded)
///     y = Add (p, shift)
///
/// The folded weight is a new initializer (a shared W stays as it is for its other users). The
/// Add takes the BatchNormalization's name and output name.
///
/// Skip cases 1 to 6 are `BatchNormAffine`'s; this rule adds:
/// 7. the MatMul's output has another use or is a graph output.
/// 8. W is not a constant float32 initializer of shape [K, N] with N the channel count.
/// 9. the MatMul output's rank is unknown: neither it, the BatchNormalization's output nor A has a
///    declared shape.
/// 10. the MatMul output is not 2-D, so the channel axis 1 is not the axis W's columns make.
/// 11. the model's opset is below 7, where Add does not broadcast without attributes.
public struct FoldBatchNormIntoMatMul: RewriteRule {
  public let name = "fold-batchnorm-into-matmul"

  public init() {}

  public func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard BatchNormAffine.isBatchNorm(node), let x = node.input(0), let matmul = x.producer,
      matmul.opType == "MatMul", matmul.isStandard, matmul.graph === graph
    else { return .noMatch }
    let affine: BatchNormAffine
    switch BatchNormAffine.read(node, in: graph, model: model) {
    case .refused(let reason): return .refused(reason)
    case .affine(let read): affine = read
    }
    let label = BatchNormAffine.describe(matmul)
    guard x.soleUser === node else {
      return .refused("skip 7: output '\(x.name)' of \(label) has other uses or is a graph output")
    }
    let channels = affine.channels
    guard let w = matmul.input(1), let weight = BatchNormAffine.float32Constant(w, model: model),
      weight.shape.count == 2, weight.shape[1] == channels
    else {
      return .refused("skip 8: weight of \(label) is not a constant float32 initializer of shape [K, \(channels)]")
    }
    let aRank = BatchNormAffine.declaredRank(matmul.input(0)).map { $0 >= 2 ? $0 : 1 }
    guard let rank = BatchNormAffine.declaredRank(x) ?? BatchNormAffine.declaredRank(node.output) ?? aRank else {
      return .refused("skip 9: the rank of output '\(x.name)' of \(label) is unknown (no declared shape)")
    }
    guard rank == 2 else {
      return .refused(
        "skip 10: output '\(x.name)' of \(label) has rank \(rank); the channel axis 1 is its last axis only for rank 2")
    }
    let opset = model.opsetVersion("") ?? 1
    guard opset >= 7 else {
      return .refused("skip 11: opset \(opset) has no broadcasting Add for the shift")
    }
    let folded = weight.values.indices.map { Double(weight.values[$0]) * affine.multiplier[$0 % channels] }
    return .rewrite { rewriter in
      let newWeight = try rewriter.addConstant(
        w.name + "_folded", BatchNormAffine.floatTensor(folded, shape: weight.shape))
      try matmul.replaceInput(at: 1, with: newWeight)
      let baseName = node.name.isEmpty ? x.name : node.name
      let shift = try rewriter.addConstant(
        baseName + "_shift", BatchNormAffine.floatTensor(affine.shift, shape: [channels]))
      let add = try rewriter.insertNode(
        "Add", name: node.name, inputs: [x, shift], outputBases: [(node.output?.name ?? x.name) + "_shifted"])
      guard let sum = add.output else { return }
      let originalName = try affine.replace(with: sum, rewriter: rewriter, alsoRemoving: [w])
      add.name = node.name
      if let originalName, sum.name != originalName, rewriter.graph.value(named: originalName) == nil {
        try rewriter.graph.rename(sum, to: originalName)
      }
    }
  }
}
