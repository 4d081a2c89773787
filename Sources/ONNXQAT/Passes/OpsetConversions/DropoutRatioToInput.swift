import Foundation

/// Moves Dropout's `ratio` attribute to an input (opset 12).
///
/// Spec change (opset 12): Dropout-10 took `ratio` (float, default 0.5) as an attribute and
/// always ran in inference mode; Dropout-12 takes `ratio` as an optional scalar input (any float
/// type, default 0.5) and gained an optional `training_mode` input, absent meaning inference.
/// Maths: in inference mode y = x before and after; the ratio is kept for training.
///
/// Before (opset 11):  `y = Dropout <ratio = 0.25> (x)`
/// After (opset 13):   `y = Dropout (x, ratio)`  with initializer `float ratio = {0.25}`
///
/// Skip cases:
/// 1. The node has more than one input already; refused.
struct DropoutRatioToInput: OpsetConversion {
  let name = "dropout-ratio-to-input"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard node.attribute("ratio") != nil else { return .noMatch }
    // Skip 1.
    guard node.inputs.count == 1 else {
      return .refused("\(node.label) has \(node.inputs.count) inputs; expected 1 before opset 12")
    }
    let ratio = node.float("ratio", default: 0.5)
    return .rewrite { rewriter in
      let value = try context.addConstant(context.base(node) + "_ratio", .scalar(ratio), rewriter)
      node.appendInput(value)
      node.dropAttributes(["ratio"])
    }
  }
}
