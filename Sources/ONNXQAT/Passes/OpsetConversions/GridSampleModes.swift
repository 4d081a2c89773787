import Foundation

/// Renames GridSample's interpolation modes at opset 20.
///
/// Spec change (opset 20): GridSample-16's `mode` values "bilinear" (the default), "nearest"
/// and "bicubic" became "linear" (the new default), "nearest" and "cubic", for N-D inputs.
/// Maths: unchanged for 4-D inputs.
///
/// Before (opset 16):  `y = GridSample <mode = "bicubic"> (x, grid)`
/// After (opset 20):   `y = GridSample <mode = "cubic"> (x, grid)`
///
/// Skip cases:
/// 1. A mode other than the three above; refused.
struct GridSampleModes: OpsetConversion {
  let name = "grid-sample-modes"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    let mode = node.stringAttribute("mode", default: "bilinear")
    let renamed = ["bilinear": "linear", "nearest": "nearest", "bicubic": "cubic"][mode]
    // Skip 1.
    guard let renamed else { return .refused("mode '\(mode)' of \(node.label) is not bilinear, nearest or bicubic") }
    return .rewrite { _ in node.putAttribute(.string("mode", renamed)) }
  }
}
