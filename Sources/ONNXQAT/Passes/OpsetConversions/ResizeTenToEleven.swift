import Foundation

/// Converts Resize-10 to the Resize-11 form, writing out the sampling it used to imply.
///
/// Spec change (opset 11): Resize-10 had inputs (X, scales) and mapped output coordinates to
/// input coordinates as x_in = x_out / scale ("asymmetric"); its nearest mode picked
/// floor(x_in) when upsampling and ceil(x_in) when downsampling (onnxruntime's behaviour, which
/// our executor follows). Resize-11 inserted `roi` before `scales`, added
/// `coordinate_transformation_mode` (default "half_pixel") and `nearest_mode` (default
/// "round_prefer_floor"). Both defaults differ, so they are set: "asymmetric", and "floor" when
/// every scale is >= 1 or "ceil" when every scale is <= 1 (a scale of exactly 1 maps integers to
/// integers, where both agree). The roi is an empty tensor (opsets 11-12) or omitted (13+).
/// Maths: y[x_out] = X[floor(x_out / s)] (upsampling) before and after.
///
/// Before (opset 10):  `y = Resize <mode = "nearest"> (x, scales)`
/// After (opset 13):
/// `y = Resize <mode = "nearest", coordinate_transformation_mode = "asymmetric", nearest_mode = "floor"> (x, , scales)`
///
/// Skip cases:
/// 1. The node does not have exactly the inputs X and scales; refused.
/// 2. A mode other than "nearest" or "linear"; refused.
/// 3. Nearest mode with scales that are not constant, or that both up- and downsample; refused.
struct ResizeTenToEleven: OpsetConversion {
  let name = "resize-10-to-11"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    // Skip 1.
    guard node.inputs.count == 2, node.input(0) != nil, let scales = node.input(1) else {
      return .refused("\(node.label) has \(node.inputs.count) inputs; expected X and scales before opset 11")
    }
    switch Self.attributes(node, scales: context.constantTensor(of: scales)?.doubles(), upsampling: false) {
    case .failure(let reason): return .refused(reason.message)
    case .success(let attributes):
      return .rewrite { rewriter in
        guard let scales = node.input(1) else { throw ONNXQATError.refusedEdit("\(node.label) lost its scales") }
        try node.replaceInput(at: 1, with: try Self.roi(node, context, rewriter))
        node.appendInput(scales)
        for attribute in attributes { node.putAttribute(attribute) }
      }
    }
  }

  struct Refusal: Error {
    var message: String
  }

  /// The Resize-11 attributes that keep the meaning of a Resize-10 or Upsample node: its mode,
  /// asymmetric coordinates, and for nearest the rounding the old form implied. `scales` are the
  /// constant scales when known; `upsampling` says the op guarantees scales >= 1 (Upsample).
  static func attributes(_ node: Node, scales: [Double]?, upsampling: Bool) -> Result<[Attribute], Refusal> {
    let mode = node.stringAttribute("mode", default: "nearest")
    // Skip 2.
    guard mode == "nearest" || mode == "linear" else {
      return .failure(Refusal(message: "mode '\(mode)' of \(node.label) is not nearest or linear"))
    }
    var attributes: [Attribute] = [.string("mode", mode), .string("coordinate_transformation_mode", "asymmetric")]
    guard mode == "nearest" else { return .success(attributes) }
    if let scales, scales.allSatisfy({ $0 >= 1 }) {
      attributes.append(.string("nearest_mode", "floor"))
    } else if let scales, scales.allSatisfy({ $0 <= 1 }) {
      attributes.append(.string("nearest_mode", "ceil"))
    } else if scales == nil && upsampling {
      attributes.append(.string("nearest_mode", "floor"))
    } else {
      // Skip 3.
      return .failure(
        Refusal(
          message: "scales of \(node.label) are "
            + (scales == nil ? "not constant" : "both above and below 1")
            + ", so the nearest rounding of opset 10 cannot be chosen"))
    }
    return .success(attributes)
  }

  /// The roi input of the converted node: an empty float tensor (Resize-11 and 12 require the
  /// input), or absent from opset 13.
  static func roi(_ node: Node, _ context: OpsetConversionContext, _ rewriter: Rewriter) throws -> Value? {
    if context.targetVersion >= 13 { return nil }
    return try context.addConstant(
      context.base(node) + "_roi", HostTensor(.float, shape: [0], values: [Float]()), rewriter)
  }
}
