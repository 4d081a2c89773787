import Foundation

/// Renames Scatter, deprecated at opset 11, to ScatterElements.
///
/// Spec change (opset 11): Scatter-9 was deprecated and replaced by ScatterElements-11, with the
/// same inputs (data, indices, updates), the same `axis` attribute (default 0) and the same
/// meaning; ScatterElements also accepts negative indices.
/// Maths: y = data; y[..., indices[i, j], ...] = updates[i, j] along `axis`, before and after.
///
/// Before (opset 10):  `y = Scatter <axis = 1> (data, indices, updates)`
/// After (opset 13):   `y = ScatterElements <axis = 1> (data, indices, updates)`
///
/// Skip cases: none.
struct ScatterToScatterElements: OpsetConversion {
  let name = "scatter-to-scatter-elements"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    .rewrite { _ in node.opType = "ScatterElements" }
  }
}
