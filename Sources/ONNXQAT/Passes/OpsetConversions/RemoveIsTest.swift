import Foundation

/// Drops the `is_test` attribute that opset 7 removed from BatchNormalization and Dropout.
///
/// Spec change (opset 7): BatchNormalization-6 and Dropout-6 chose between training and
/// inference behaviour with `is_test`; from opset 7 the attribute is gone and the ops run in
/// inference mode (Dropout is the identity, BatchNormalization uses the given mean and variance).
/// Maths: with is_test = 1, y = (x - mean) / sqrt(var + epsilon) * scale + B before and after.
///
/// Before (opset 6):  `y = BatchNormalization <is_test = 1> (x, s, b, m, v)`
/// After (opset 13):  `y = BatchNormalization (x, s, b, m, v)`
///
/// Skip cases:
/// 1. `is_test = 0` written explicitly: the node asks for training behaviour, which the newer
///    forms express differently (batch statistics, random masks); refused.
struct RemoveIsTest: OpsetConversion {
  let name = "remove-is-test"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard node.attribute("is_test") != nil else { return .noMatch }
    // Skip 1.
    if node.int("is_test", default: 0) == 0 {
      return .refused("is_test of \(node.label) is 0 (training mode), which opset 7 cannot express this way")
    }
    return .rewrite { _ in node.dropAttributes(["is_test"]) }
  }
}
