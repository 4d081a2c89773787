import Foundation

/// Rewrites an inference BatchNormalization that no fold removed as Mul and Add, which the
/// quantizer handles like any elementwise pair.
///
/// With m and s from `BatchNormAffine` and X of rank r ([N, C, d1, ...]):
///
///     BN(X) = X * m' + s'     where m', s' are m, s reshaped to [C, 1, ..., 1] (rank r - 1)
///
/// so that numpy broadcasting, aligned to the right, puts C on axis 1. m and s are computed in
/// Double and stored as Float.
///
/// Before:
///
///     y = BatchNormalization (x, scale, bias, mean, var)     # x: float[N, 3, H, W]
///
/// After:
///
///     y_scaled = Mul (x, bn_multiplier)                       # bn_multiplier: float[3, 1, 1]
///     y = Add (y_scaled, bn_shift)                            # bn_shift: float[3, 1, 1]
///
/// The Add takes the BatchNormalization's name and output name; the Mul is named `<name>_mul`.
///
/// Skip cases 1 to 6 are `BatchNormAffine`'s; this rule adds:
/// 7. the rank of X is unknown: neither X nor Y has a declared shape.
/// 8. X is not float32 (by its declared type, or Y's), or its rank is below 2.
/// 9. the model's opset is below 7, where Mul and Add broadcast only by attribute.
public struct DecomposeBatchNorm: RewriteRule {
  public let name = "decompose-batchnorm"

  public init() {}

  public func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard BatchNormAffine.isBatchNorm(node), let x = node.input(0), let y = node.output else { return .noMatch }
    let affine: BatchNormAffine
    switch BatchNormAffine.read(node, in: graph, model: model) {
    case .refused(let reason): return .refused(reason)
    case .affine(let read): affine = read
    }
    let label = BatchNormAffine.describe(node)
    let declared = [x, y].lazy.compactMap { $0.type?.tensorType }.first { $0.shape != nil }
    guard let type = declared, let rank = type.shape?.dims.count else {
      return .refused("skip 7: the rank of input '\(x.name)' of \(label) is unknown (no declared shape)")
    }
    guard type.elementType == .float, rank >= 2 else {
      return .refused(
        "skip 8: input '\(x.name)' of \(label) is \(type.elementType?.name ?? "of unknown type") of rank \(rank);"
          + " expected float32 of rank 2 or more")
    }
    let opset = model.opsetVersion("") ?? 1
    guard opset >= 7 else {
      return .refused("skip 9: opset \(opset) has no broadcasting Mul and Add")
    }
    let shape = [affine.channels] + [Int](repeating: 1, count: rank - 2)
    return .rewrite { rewriter in
      let base = node.name.isEmpty ? y.name : node.name
      let multiplier = try rewriter.addConstant(
        base + "_multiplier", BatchNormAffine.floatTensor(affine.multiplier, shape: shape))
      let shift = try rewriter.addConstant(base + "_shift", BatchNormAffine.floatTensor(affine.shift, shape: shape))
      let mul = try rewriter.insertNode(
        "Mul", name: node.name.isEmpty ? "" : node.name + "_mul", inputs: [x, multiplier],
        outputBases: [y.name + "_scaled"])
      guard let scaled = mul.output else { return }
      let add = try rewriter.insertNode(
        "Add", name: node.name, inputs: [scaled, shift], outputBases: [y.name + "_shifted"])
      guard let sum = add.output else { return }
      let originalName = try affine.replace(with: sum, rewriter: rewriter)
      add.name = node.name
      if let originalName, sum.name != originalName, rewriter.graph.value(named: originalName) == nil {
        try rewriter.graph.rename(sum, to: originalName)
      }
    }
  }
}
