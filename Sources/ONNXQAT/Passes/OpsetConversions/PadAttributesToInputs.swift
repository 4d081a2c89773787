import Foundation

/// Moves Pad's `pads` and `value` attributes to inputs (opset 11).
///
/// Spec change (opset 11): Pad-2 took `pads` (int list, begins then ends) and `value` (float,
/// default 0) as attributes; Pad-11 takes `pads` as an int64 input and the fill value as an
/// optional scalar input `constant_value` of the data's element type (absent: 0). `mode` is
/// unchanged.
/// Maths: unchanged; y[i] = x[i - begin] inside, the fill value (or reflected/edge values)
/// outside.
///
/// Before (opset 10):  `y = Pad <pads = [0, 1, 0, 1], value = 2.0> (x)`
/// After (opset 13):   `y = Pad (x, pads, value)`  with `int64[4] pads` and a scalar `value`
///
/// Skip cases:
/// 1. The node has more than one input already; refused.
/// 2. `pads` is missing or not a list of integers; refused.
/// 3. A nonzero `value` in constant mode, and the element type of the data is unknown or not
///    float, double or float16; refused.
struct PadAttributesToInputs: OpsetConversion {
  let name = "pad-attributes-to-inputs"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    // Skip 1.
    guard node.inputs.count == 1, let input = node.input(0) else {
      return .refused("\(node.label) has \(node.inputs.count) inputs; expected 1 before opset 11")
    }
    // Skip 2.
    guard case .ints(let pads)? = node.attribute("pads")?.value else {
      return .refused("attribute pads of \(node.label) is missing or not a list of integers")
    }
    let fill = node.float("value", default: 0)
    var fillScalar: HostTensor?
    if fill != 0 && node.stringAttribute("mode", default: "constant") == "constant" {
      // Skip 3.
      guard let type = context.elementType(of: input), let scalar = OpsetConversionContext.floatScalar(fill, as: type)
      else {
        return .refused("element type of input '\(input.name)' of \(node.label) is unknown or not a float type")
      }
      fillScalar = scalar
    }
    return .rewrite { rewriter in
      let base = context.base(node)
      node.appendInput(try context.addInt64s(base + "_pads", pads, rewriter))
      if let fillScalar { node.appendInput(try context.addConstant(base + "_value", fillScalar, rewriter)) }
      node.dropAttributes(["pads", "value"])
    }
  }
}
