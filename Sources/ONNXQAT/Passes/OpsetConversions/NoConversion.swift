import Foundation

/// Opset changes a node either survives unchanged or cannot be converted.
///
/// `.compatible` marks a reviewed change that keeps an old node valid and equal in meaning,
/// e.g. Gemm-11 making C optional, Constant-11 making `value` optional, GRU-3 fixing the spelling
/// of its default direction.
/// `.refuse(reason)` marks a change without a conversion here, e.g. GroupNormalization-21
/// (scale and bias per channel instead of per group); `.refuseAttribute` refuses only when a
/// node sets an attribute whose meaning changed (LpPool-2's float `p`).
/// Maths: none.
///
/// Before (opset 18):  `y = GroupNormalization <num_groups = 2> (x, scale, bias)`
/// After (opset 21):   not converted: "GroupNormalization 'gn' ... per channel ...".
///
/// Skip cases:
/// 1. A refused change; the reason names the node and the change.
/// 2. A refused attribute that the node sets.
struct NoConversion: OpsetConversion {
  enum Kind {
    case compatible
    case refuse(String)
    case refuseAttribute(String, String)
  }

  let name: String
  let kind: Kind

  static func compatible(_ name: String) -> NoConversion { NoConversion(name: name, kind: .compatible) }
  static func refuse(_ name: String, _ reason: String) -> NoConversion {
    NoConversion(name: name, kind: .refuse(reason))
  }

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    switch kind {
    case .compatible:
      return .noMatch
    case .refuse(let reason):
      // Skip 1.
      return .refused("\(node.label): \(reason)")
    case .refuseAttribute(let attribute, let reason):
      // Skip 2.
      guard node.attribute(attribute) != nil else { return .noMatch }
      return .refused("attribute \(attribute) of \(node.label): \(reason)")
    }
  }
}
