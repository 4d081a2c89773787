import Foundation

/// Folds an inference BatchNormalization over a Gemm's 2-D output into the Gemm's B and C.
///
/// Gemm computes `Y = alpha * A' * B' + beta * C` with Y of shape [M, N], B' = B ([K, N], transB
/// = 0) or B^T (B is [N, K], transB = 1), and C broadcast to [M, N]. The BatchNormalization's
/// channel axis is axis 1 of Y, so N = C_bn. With m and s from `BatchNormAffine`:
///
///     BN(Y)[:, n] = alpha * A' * (B'[:, n] * m[n]) + (beta * C[n] * m[n] + s[n])
///
/// so the columns of B' are scaled (the columns of B when transB = 0, its rows when transB = 1),
/// `C'[n] = beta * C[n] * m[n] + s[n]` (C = 0 when absent) of shape [N], and beta becomes 1 (the
/// attribute is dropped). alpha stays. Computed in Double, stored as Float.
///
/// Before:
///
///     g = Gemm <transB: int = 1, alpha: float = 0.5, beta: float = 2.0> (a, b, c)
///     y = BatchNormalization (g, scale, bias, mean, var)
///
/// After:
///
///     y = Gemm <transB: int = 1, alpha: float = 0.5> (a, b_folded, c_folded)
///
/// The folded B and C are new initializers (a shared B stays as it is for its other users).
///
/// Skip cases 1 to 6 are `BatchNormAffine`'s; this rule adds:
/// 7. the Gemm's output has another use or is a graph output.
/// 8. B is not a constant float32 initializer of rank 2 with N equal to the channel count.
/// 9. C is not a constant float32 initializer broadcast along rows only ([], [1], [N], [1, 1] or
///    [1, N]); a C that varies along M cannot absorb a per-column shift.
/// 10. the model's opset is below 7, where Gemm's C follows the legacy `broadcast` attribute.
public struct FoldBatchNormIntoGemm: RewriteRule {
  public let name = "fold-batchnorm-into-gemm"

  public init() {}

  public func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard BatchNormAffine.isBatchNorm(node), let x = node.input(0), let gemm = x.producer,
      gemm.opType == "Gemm", gemm.isStandard, gemm.graph === graph
    else { return .noMatch }
    let affine: BatchNormAffine
    switch BatchNormAffine.read(node, in: graph, model: model) {
    case .refused(let reason): return .refused(reason)
    case .affine(let read): affine = read
    }
    let label = BatchNormAffine.describe(gemm)
    guard x.soleUser === node else {
      return .refused("skip 7: output '\(x.name)' of \(label) has other uses or is a graph output")
    }
    let opset = model.opsetVersion("") ?? 1
    guard opset >= 7 else {
      return .refused("skip 10: \(label) is of opset \(opset), whose C follows the legacy broadcast attribute")
    }
    let channels = affine.channels
    let transposed = gemm.int("transB", default: 0) != 0
    guard let b = gemm.input(1), let weight = BatchNormAffine.float32Constant(b, model: model),
      weight.shape.count == 2, weight.shape[transposed ? 0 : 1] == channels
    else {
      let shape = transposed ? "[\(channels), K]" : "[K, \(channels)]"
      return .refused("skip 8: B of \(label) is not a constant float32 initializer of shape \(shape)")
    }
    let beta = Double(gemm.float("beta", default: 1))
    var offset = [Double](repeating: 0, count: channels)
    let oldC = gemm.input(2)
    if let c = oldC {
      guard let read = BatchNormAffine.float32Constant(c, model: model), read.shape.count <= 2,
        read.shape.count < 2 || read.shape[0] == 1, read.values.count == 1 || read.shape.last == channels
      else {
        return .refused(
          "skip 9: C '\(c.name)' of \(label) is not a constant float32 initializer broadcast along rows ([\(channels)])"
        )
      }
      offset = (0..<channels).map { beta * Double(read.values[read.values.count == 1 ? 0 : $0]) }
    }
    let rows = weight.shape[0]
    let columns = weight.shape[1]
    var folded = [Double](repeating: 0, count: weight.values.count)
    for r in 0..<rows {
      for k in 0..<columns {
        folded[r * columns + k] = Double(weight.values[r * columns + k]) * affine.multiplier[transposed ? r : k]
      }
    }
    let foldedC = (0..<channels).map { offset[$0] * affine.multiplier[$0] + affine.shift[$0] }
    return .rewrite { rewriter in
      try BatchNormAffine.setWeightAndBias(
        of: gemm, weight: BatchNormAffine.floatTensor(folded, shape: weight.shape),
        bias: BatchNormAffine.floatTensor(foldedC, shape: [channels]), rewriter: rewriter)
      gemm.attributes.removeAll { $0.name == "beta" }
      try affine.replace(with: x, rewriter: rewriter, alsoRemoving: [b] + (oldC.map { [$0] } ?? []))
    }
  }
}
