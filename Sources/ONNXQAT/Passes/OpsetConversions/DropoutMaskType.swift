import Foundation

/// Refuses Dropout nodes whose `mask` output would change element type at opset 10.
///
/// Spec change (opset 10): Dropout-7's optional `mask` output had the data's element type;
/// Dropout-10's is bool. A node that produces the mask would feed its users a different type.
/// Maths: none; the output `y = x` is unaffected.
///
/// Before (opset 9):  `y, mask = Dropout (x)`   (mask: float)
/// After (opset 13):  not converted.
///
/// Skip cases:
/// 1. The node has a `mask` output; refused (nodes without one need nothing).
struct DropoutMaskType: OpsetConversion {
  let name = "dropout-mask-type"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard node.outputs.count > 1, let mask = node.outputs[1] else { return .noMatch }
    // Skip 1.
    return .refused("mask output '\(mask.name)' of \(node.label) changes element type to bool at opset 10")
  }
}
