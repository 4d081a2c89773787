import Foundation

/// Moves Clip's `min` and `max` attributes to inputs (opset 11).
///
/// Spec change (opset 11): Clip-6 took the bounds as float attributes (defaults -FLT_MAX and
/// FLT_MAX, i.e. no bound); Clip-11 takes them as optional scalar inputs of the input's element
/// type T (absent input: no bound).
/// Maths: y = min(max(x, lo), hi) before and after, with lo and hi converted to T.
///
/// Before (opset 6):  `y = Clip <min = 0.0, max = 6.0> (x)`
/// After (opset 13):  `y = Clip (x, x_min, x_max)`  with scalar initializers of x's type
///
/// Skip cases:
/// 1. The node has more than one input already; refused.
/// 2. The element type of the input is unknown or not float, double or float16 (the types Clip-6
///    accepts), so the bounds' type cannot be chosen; refused.
struct ClipBoundsToInputs: OpsetConversion {
  let name = "clip-bounds-to-inputs"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    let bounds = ["min", "max"].map { name -> Float? in
      node.attribute(name) == nil ? nil : node.float(name, default: 0)
    }
    guard bounds.contains(where: { $0 != nil }) else { return .noMatch }
    // Skip 1.
    guard node.inputs.count == 1, let input = node.input(0) else {
      return .refused("\(node.label) has \(node.inputs.count) inputs; expected 1 before opset 11")
    }
    // Skip 2.
    guard let type = context.elementType(of: input), OpsetConversionContext.floatScalar(0, as: type) != nil else {
      return .refused("element type of input '\(input.name)' of \(node.label) is unknown or not a float type")
    }
    return .rewrite { rewriter in
      let base = context.base(node)
      var values: [Value?] = []
      for (name, bound) in zip(["min", "max"], bounds) {
        guard let bound, let scalar = OpsetConversionContext.floatScalar(bound, as: type) else {
          values.append(nil)
          continue
        }
        values.append(try context.addConstant(base + "_" + name, scalar, rewriter))
      }
      while let last = values.last, last == nil { values.removeLast() }
      for value in values { node.appendInput(value) }
      node.dropAttributes(["min", "max"])
    }
  }
}
