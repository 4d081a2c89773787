import Foundation

/// Drops the `consumed_inputs` attribute that opset 6 removed from 29 operators.
///
/// Spec change (opset 6): `consumed_inputs` was a legacy in-place optimisation hint (which inputs
/// the op may overwrite) with no effect on the result; opset 6 removed it from Abs, Add,
/// BatchNormalization, Ceil, Clip, Div, Dropout, Elu, Exp, Floor, HardSigmoid,
/// InstanceNormalization, LeakyRelu, Log, Max, Mean, Min, Mul, Neg, PRelu, Reciprocal, Relu,
/// Selu, Sigmoid, Sqrt, Sub, Sum, Tanh (and Reshape, at 5, with its `shape` attribute).
/// Maths: y = f(x) before and after.
///
/// Before (opset 5):  `y = Relu <consumed_inputs = [0]> (x)`
/// After (opset 13):  `y = Relu (x)`
///
/// Skip cases: none (a node without the attribute needs nothing).
struct RemoveConsumedInputs: OpsetConversion {
  let name = "remove-consumed-inputs"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard node.attribute("consumed_inputs") != nil else { return .noMatch }
    return .rewrite { _ in node.dropAttributes(["consumed_inputs"]) }
  }
}
