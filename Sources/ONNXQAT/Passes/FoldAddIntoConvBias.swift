import Foundation

/// Folds an Add of a per-channel constant after a Conv into the Conv's bias.
///
/// The Conv's output is [N, M, d1, ..., dn] (rank r = n + 2). A constant k broadcasts onto it
/// along the channel axis only when, aligned to the right as numpy broadcasting aligns it, every
/// dimension is 1 except the one on axis 1, which is M or 1 (so [M, 1, ..., 1], [1, M, 1, ...],
/// [1] or a scalar, of rank at most r). Then
///
///     Conv(X, W, b) + k = Conv(X, W, b + k')     where k'[m] = k[m] (or k[0] when that axis is 1)
///
/// with b = 0 when the Conv has no bias. Either operand order of the Add is accepted.
///
/// Before:
///
///     c = Conv (x, w)
///     y = Add (k, c)          # k: float[4, 1, 1]
///
/// After:
///
///     y = Conv (x, w, k_bias)  # k_bias: float[4]
///
/// This also lets `FoldBatchNormIntoConv` fold a BatchNormalization behind a Conv whose bias
/// was written as a separate Add: the rule set runs to a fixed point, so Conv -> Add(k) -> BN
/// becomes Conv(bias) -> BN and then Conv(bias').
///
/// An Add whose other operand is not an initializer at all is not this pattern (no refusal).
///
/// Skip cases:
/// 1. the Conv's output has another use or is a graph output.
/// 2. the other operand is an initializer that is not constant (a graph input may override it)
///    or is not float32.
/// 3. the constant does not broadcast along the channel axis only (its shape has a dimension
///    other than 1 off axis 1, or more dimensions than the Conv's output).
/// 4. the Conv's weight is not a constant initializer of rank 3 or more (M is unknown).
/// 5. the Conv's bias is not a constant float32 initializer of shape [M].
/// 6. the model's opset is below 7, where Add broadcasts only by attribute.
public struct FoldAddIntoConvBias: RewriteRule {
  public let name = "fold-add-into-conv-bias"

  public init() {}

  public func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard node.opType == "Add", node.isStandard, node.inputs.count == 2, let output = node.output else {
      return .noMatch
    }
    guard
      let side = (0..<2).first(where: { side in
        let producer = node.inputs[side]?.producer
        return producer?.opType == "Conv" && producer?.isStandard == true && producer?.graph === graph
          && node.inputs[1 - side]?.hasInitializer == true
      }), let convOutput = node.inputs[side], let conv = convOutput.producer, let k = node.inputs[1 - side]
    else { return .noMatch }
    let label = BatchNormAffine.describe(conv)
    guard convOutput.soleUser === node else {
      return .refused("skip 1: output '\(convOutput.name)' of \(label) has other uses or is a graph output")
    }
    guard let constant = BatchNormAffine.float32Constant(k, model: model) else {
      return .refused("skip 2: '\(k.name)' added to \(label) is not a constant float32 initializer")
    }
    guard let w = conv.input(1), let weight = w.constantTensor(in: model), weight.dims.count >= 3 else {
      return .refused("skip 4: weight of \(label) is not a constant initializer of rank 3 or more")
    }
    let channels = Int(weight.dims[0])
    let rank = weight.dims.count
    let shape = constant.shape
    let channelAxis = shape.count - (rank - 1)
    let broadcastsAlongChannels =
      shape.count <= rank
      && shape.indices.allSatisfy { axis in shape[axis] == 1 || (axis == channelAxis && shape[axis] == channels) }
    guard broadcastsAlongChannels else {
      return .refused(
        "skip 3: '\(k.name)' of shape \(shape) added to \(label) does not broadcast along the channel axis only")
    }
    var bias = [Float](repeating: 0, count: channels)
    let oldBias = conv.input(2)
    if let b = oldBias {
      guard let read = BatchNormAffine.float32Constant(b, model: model), read.shape == [channels] else {
        return .refused(
          "skip 5: bias '\(b.name)' of \(label) is not a constant float32 initializer of shape [\(channels)]")
      }
      bias = read.values
    }
    let opset = model.opsetVersion("") ?? 1
    guard opset >= 7 else {
      return .refused("skip 6: Add of opset \(opset) broadcasts only by attribute")
    }
    let perChannel = constant.values.count == channels
    let summed = (0..<channels).map { Double(bias[$0]) + Double(constant.values[perChannel ? $0 : 0]) }
    return .rewrite { rewriter in
      let base = oldBias?.name ?? k.name
      let newBias = try rewriter.addConstant(base + "_bias", BatchNormAffine.floatTensor(summed, shape: [channels]))
      if conv.inputs.count > 2 {
        try conv.replaceInput(at: 2, with: newBias)
      } else {
        conv.appendInput(newBias)
      }
      if convOutput.type == nil { convOutput.type = output.type }
      try rewriter.replaceAllUses(of: output, with: convOutput)
      try rewriter.removeIfUnused([node], initializers: [k] + (oldBias.map { [$0] } ?? []))
    }
  }
}
