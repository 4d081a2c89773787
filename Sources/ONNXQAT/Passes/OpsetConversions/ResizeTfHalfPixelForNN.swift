import Foundation

/// Rewrites Resize's "tf_half_pixel_for_nn" coordinates, which opset 13 removed, into
/// "half_pixel" with the nearest rounding that picks the same pixels.
///
/// Spec change (opset 13): Resize-11's `coordinate_transformation_mode` value
/// "tf_half_pixel_for_nn" (x_in = (x_out + 0.5) / scale, nearest mode only) is not a value of
/// Resize-13 (which also made `roi` and `scales` optional, a compatible change).
/// Maths: with v = (x_out + 0.5) / scale, "half_pixel" gives u = v - 0.5 (exact in floating
/// point for v < 2^23), and for every real v: floor(v) = floor(u + 0.5) = round_prefer_ceil(u),
/// and round_prefer_floor(v) = ceil(v - 0.5) = ceil(u). Indices are clamped to the input the
/// same way in both forms.
///
/// Before (opset 11):
/// `y = Resize <mode = "nearest", coordinate_transformation_mode = "tf_half_pixel_for_nn"> (x, roi, s)`
/// After (opset 13):
/// `y = Resize <mode = "nearest", coordinate_transformation_mode = "half_pixel", nearest_mode = "ceil"> (x, roi, s)`
///
/// Skip cases:
/// 1. A mode other than nearest (linear or cubic sampling at these coordinates has no opset-13
///    form); refused.
/// 2. nearest_mode "round_prefer_ceil" or "ceil", which no opset-13 rounding reproduces; refused.
struct ResizeTfHalfPixelForNN: OpsetConversion {
  let name = "resize-tf-half-pixel-for-nn"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard node.stringAttribute("coordinate_transformation_mode", default: "half_pixel") == "tf_half_pixel_for_nn"
    else { return .noMatch }
    let mode = node.stringAttribute("mode", default: "nearest")
    // Skip 1.
    guard mode == "nearest" else {
      return .refused("\(node.label) samples '\(mode)' at tf_half_pixel_for_nn coordinates, which opset 13 removed")
    }
    let rounding = node.stringAttribute("nearest_mode", default: "round_prefer_floor")
    let replacement = ["floor": "round_prefer_ceil", "round_prefer_floor": "ceil"][rounding]
    // Skip 2.
    guard let replacement else {
      return .refused("nearest_mode '\(rounding)' of \(node.label) has no half_pixel equivalent at opset 13")
    }
    return .rewrite { _ in
      node.putAttribute(.string("coordinate_transformation_mode", "half_pixel"))
      node.putAttribute(.string("nearest_mode", replacement))
    }
  }
}
