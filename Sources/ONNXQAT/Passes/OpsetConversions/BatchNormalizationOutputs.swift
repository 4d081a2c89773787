import Foundation

/// Refuses BatchNormalization nodes with training outputs across opset 14.
///
/// Spec change (opset 14): BatchNormalization-9 could also output the updated running mean and
/// variance and the saved batch statistics (outputs 1-4); BatchNormalization-14 has at most
/// three outputs (Y, running_mean, running_var), produced only with `training_mode = 1`, which
/// then normalises with batch statistics. An inference node (one output) is unchanged.
/// Maths: y = (x - mean) / sqrt(var + epsilon) * scale + B before and after.
///
/// Before (opset 9):  `y = BatchNormalization <epsilon = 1e-5> (x, s, b, m, v)`
/// After (opset 14):  the same node.
///
/// Skip cases:
/// 1. The node has an output besides Y; refused.
struct BatchNormalizationOutputs: OpsetConversion {
  let name = "batchnorm-training-outputs"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard let extra = node.outputs.dropFirst().compactMap({ $0 }).first else { return .noMatch }
    // Skip 1.
    return .refused("\(node.label) has training output '\(extra.name)', which opset 14 defines differently")
  }
}
