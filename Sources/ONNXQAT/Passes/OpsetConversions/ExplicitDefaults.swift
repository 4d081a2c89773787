import Foundation

/// Writes out attribute defaults that a newer opset changed, so the node keeps its old meaning.
///
/// Spec changes: Concat-4 made `axis` required (Concat-1 defaulted to 1); Selu-6 changed the
/// defaults of `alpha` (1.6732 -> 1.67326319) and `gamma` (1.0507 -> 1.05070102).
/// Maths: unchanged; an absent attribute takes the old default explicitly.
///
/// Before (opset 3):  `y = Concat (a, b)`
/// After (opset 13):  `y = Concat <axis = 1> (a, b)`
///
/// Skip cases: none (attributes already present are kept).
struct ExplicitDefaults: OpsetConversion {
  let name: String
  let defaults: [Attribute]

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    let missing = defaults.filter { node.attribute($0.name) == nil }
    guard !missing.isEmpty else { return .noMatch }
    return .rewrite { _ in
      for attribute in missing { node.putAttribute(attribute) }
    }
  }
}
