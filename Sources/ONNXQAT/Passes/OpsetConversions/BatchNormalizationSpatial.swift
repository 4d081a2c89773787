import Foundation

/// Drops BatchNormalization's `spatial` attribute, removed at opset 9.
///
/// Spec change (opset 9): BatchNormalization-7 normalised per channel when `spatial = 1` (the
/// default) and per element of C x D1 x ... x Dn when `spatial = 0`; opset 9 removed the
/// attribute and always normalises per channel.
/// Maths: with spatial = 1, y = (x - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + B[c] before
/// and after.
///
/// Before (opset 7):  `y = BatchNormalization <spatial = 1> (x, s, b, m, v)`
/// After (opset 13):  `y = BatchNormalization (x, s, b, m, v)`
///
/// Skip cases:
/// 1. `spatial = 0`: per-element statistics have no opset-9 form; refused.
struct BatchNormalizationSpatial: OpsetConversion {
  let name = "batchnorm-remove-spatial"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard node.attribute("spatial") != nil else { return .noMatch }
    // Skip 1.
    if node.int("spatial", default: 1) == 0 {
      return .refused("spatial of \(node.label) is 0 (per-element statistics), which opset 9 removed")
    }
    return .rewrite { _ in node.dropAttributes(["spatial"]) }
  }
}
