import Foundation

/// Converts Softmax, LogSoftmax and Hardmax from the coerced-2-D form (opsets 1-12) to the
/// single-axis form of opset 13.
///
/// Spec change (opset 13): before, the input of shape [d0, ..., dn-1] was coerced to 2-D,
/// [d0 * ... * d(axis-1), d(axis) * ... * dn-1], the op applied along the second dimension, and
/// the result reshaped back; `axis` defaulted to 1. From 13 the op acts along the one axis
/// `axis`, which defaults to -1.
/// Maths: softmax over the flattened block x[i, axis...] equals softmax along the last axis when
/// `axis` is the last axis (axis = -1 or rank - 1); the attribute is then written explicitly
/// (its default changed). Otherwise the old meaning is rebuilt:
/// y = Reshape(Softmax(Flatten(x, axis), axis = -1), Shape(x)), which needs no known rank.
///
/// Before (opset 11):  `y = Softmax <axis = 1> (x)`   (x: float[2,3,4])
/// After (opset 13):
/// ```
/// x_shape = Shape (x)
/// x_2d = Flatten <axis = 1> (x)
/// y_2d = Softmax <axis = -1> (x_2d)
/// y = Reshape (y_2d, x_shape)
/// ```
///
/// Skip cases:
/// 1. The node has no input; refused.
struct SoftmaxSingleAxis: OpsetConversion {
  let name = "softmax-single-axis"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    // Skip 1.
    guard let input = node.input(0), node.output != nil else {
      return .refused("\(node.label) has no input or no output")
    }
    let axis = node.int("axis", default: 1)
    let rank = context.rank(of: input)
    let isLastAxis = axis == -1 || rank.map { Int64($0) - 1 == axis } == true
    if isLastAxis {
      return .rewrite { _ in node.putAttribute(.int("axis", axis)) }
    }
    return .rewrite { rewriter in
      guard let x = node.input(0) else { throw ONNXQATError.refusedEdit("\(node.label) lost its input") }
      let base = context.base(node)
      let shape = try context.insertNode(
        "Shape", name: base + "_shape", inputs: [x], output: x.name + "_shape", rewriter)
      let flat = try context.insertNode(
        "Flatten", name: base + "_flatten", inputs: [x], output: x.name + "_2d", attributes: [.int("axis", axis)],
        rewriter)
      var attributes = node.attributes.filter { $0.name != "axis" }
      attributes.append(.int("axis", -1))
      let applied = try context.insertNode(
        node.opType, name: base + "_2d", inputs: [flat], output: base + "_2d", attributes: attributes, rewriter)
      let reshaped = try context.insertNode(
        "Reshape", name: base + "_reshape", inputs: [applied, shape], output: base + "_reshaped", rewriter)
      try context.replace(node, outputWith: reshaped, rewriter)
    }
  }
}
