import Foundation

/// Gives Split an explicit `num_outputs` at opset 18 when it splits into equal parts.
///
/// Spec change (opset 18): Split-13 split into equal parts when no `split` input was given;
/// Split-18 requires either the `split` input or the new `num_outputs` attribute.
/// Maths: unchanged; for a dimension divisible by n, both forms give n parts of size d / n.
///
/// Before (opset 13):  `a, b = Split <axis = 0> (x)`
/// After (opset 18):   `a, b = Split <axis = 0, num_outputs = 2> (x)`
///
/// Skip cases: none (a node with split sizes, as attribute or input, needs nothing).
struct SplitNumOutputs: OpsetConversion {
  let name = "split-num-outputs"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard node.attribute("split") == nil, node.input(1) == nil, node.attribute("num_outputs") == nil else {
      return .noMatch
    }
    let count = Int64(node.outputs.count)
    return .rewrite { _ in node.putAttribute(.int("num_outputs", count)) }
  }
}
