import Foundation

/// Drops the legacy `broadcast` and `axis` attributes of binary operators and Gemm (opset 7).
///
/// Spec change (opset 7): Add, Sub, Mul, Div, Pow, And, Or, Xor, Equal, Greater and Less lost
/// `broadcast` and `axis`: before, B was broadcast to A only with `broadcast = 1`, aligned at
/// dimension `axis` of A (trailing dimensions when `axis` was absent); from 7 both operands
/// broadcast numpy-style, aligned at the trailing dimensions. Gemm-7 lost `broadcast` (C is
/// always broadcast to A * B, unidirectionally).
/// Maths: with trailing alignment, `axis = rank(A) - rank(B)`, so C[i] = A[i] op B[i - axis]
/// is the same element before and after; otherwise the shapes were equal and nothing broadcasts.
///
/// Before (opset 6):  `c = Add <broadcast = 1, axis = 1> (a, b)`   (a: float[2,3], b: float[3])
/// After (opset 13):  `c = Add (a, b)`
///
/// Skip cases:
/// 1. `broadcast = 1` with an `axis` that is not rank(A) - rank(B), or ranks unknown: B would
///    need reshaping to align differently; refused.
struct LegacyBroadcast: OpsetConversion {
  let name = "remove-legacy-broadcast"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard node.attribute("broadcast") != nil || node.attribute("axis") != nil else { return .noMatch }
    if node.opType != "Gemm", node.int("broadcast", default: 0) != 0, let axisAttribute = node.attribute("axis"),
      case .int(let axis) = axisAttribute.value
    {
      let rankA = node.input(0).flatMap { context.rank(of: $0) }
      let rankB = node.input(1).flatMap { context.rank(of: $0) }
      // Skip 1.
      guard let rankA, let rankB, Int64(rankA - rankB) == axis else {
        return .refused(
          "broadcast axis \(axis) of \(node.label) does not align B with the trailing dimensions of A"
            + " (ranks \(rankA.map(String.init) ?? "unknown") and \(rankB.map(String.init) ?? "unknown"))")
      }
    }
    return .rewrite { _ in node.dropAttributes(["broadcast", "axis"]) }
  }
}
