import Foundation

/// Replaces Upsample (deprecated at opset 10) by Resize, or moves its scales to an input (9).
///
/// Spec changes: Upsample-9 moved `scales` from an attribute (opsets 7-8) to an input;
/// Upsample-10 was deprecated in favour of Resize-10, which has the same inputs and meaning
/// (asymmetric coordinates, nearest rounding down since Upsample's scales are >= 1). Resize-11
/// changed that meaning's defaults; the node is written in the target's form directly, with the
/// attributes `ResizeTenToEleven` explains.
/// Maths: y[x_out] = X[floor(x_out / s)] for nearest, linear interpolation at x_out / s for
/// linear, before and after.
///
/// Before (opset 9):  `y = Upsample <mode = "nearest"> (x, scales)`
/// After (opset 13):
/// `y = Resize <mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"> (x, , scales)`
///
/// Skip cases:
/// 1. The node has neither a `scales` attribute (opsets 7-8) nor a `scales` input (9); refused.
/// 2. A mode other than nearest or linear, or (nearest mode, invalid for Upsample) constant
///    scales both above and below 1 (see `ResizeTenToEleven`); refused.
struct UpsampleToResize: OpsetConversion {
  let name = "upsample-to-resize"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    let attributeScales = node.floatsAttribute("scales")
    // Skip 1.
    guard node.input(0) != nil,
      (attributeScales != nil && node.inputs.count == 1) || (attributeScales == nil && node.inputs.count == 2)
    else {
      return .refused("\(node.label) has neither a scales attribute nor exactly the inputs X and scales")
    }
    let constantScales =
      attributeScales.map { $0.map(Double.init) }
      ?? node.input(1).flatMap {
        context.constantTensor(of: $0)?.doubles()
      }
    if context.targetVersion < 10 {
      guard let attributeScales else { return .noMatch }
      return .rewrite { rewriter in
        node.appendInput(try Self.scalesConstant(attributeScales, node, context, rewriter))
        node.dropAttributes(["scales"])
      }
    }
    var attributes: [Attribute] = [.string("mode", node.stringAttribute("mode", default: "nearest"))]
    if context.targetVersion >= 11 {
      switch ResizeTenToEleven.attributes(node, scales: constantScales, upsampling: true) {
      // Skip 2.
      case .failure(let reason): return .refused(reason.message)
      case .success(let converted): attributes = converted
      }
    }
    return .rewrite { rewriter in
      var scales = node.input(1)
      if let attributeScales {
        scales = try Self.scalesConstant(attributeScales, node, context, rewriter)
        node.appendInput(scales)
      }
      if context.targetVersion >= 11 {
        try node.replaceInput(at: 1, with: try ResizeTenToEleven.roi(node, context, rewriter))
        node.appendInput(scales)
      }
      node.opType = "Resize"
      node.attributes = attributes
    }
  }

  private static func scalesConstant(
    _ scales: [Float], _ node: Node, _ context: OpsetConversionContext, _ rewriter: Rewriter
  ) throws -> Value {
    try context.addConstant(context.base(node) + "_scales", .floats(scales, shape: [scales.count]), rewriter)
  }
}
