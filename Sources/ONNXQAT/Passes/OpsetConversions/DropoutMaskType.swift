import Foundation

/// Carries Dropout's optional `mask` output across opset 10, where its element type became bool.
///
/// Spec change (opset 10): Dropout-7's optional `mask` output had the data's element type;
/// Dropout-10's is bool. A mask that nothing reads may stay (exporters such as Caffe2's declare
/// it on every Dropout); its declared type, if any, becomes bool. A mask that is read would
/// feed its users another type.
/// Maths: none; the output `y = x` is unaffected.
///
/// Before (opset 9):  `y, mask = Dropout (x)`   (mask: float, unused)
/// After (opset 13):  `y, mask = Dropout (x)`   (mask: bool, unused)
///
/// Skip cases:
/// 1. The mask is used by a node or is a graph output; refused.
struct DropoutMaskType: OpsetConversion {
  let name = "dropout-mask-type"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard node.outputs.count > 1, let mask = node.outputs[1] else { return .noMatch }
    // Skip 1.
    if !mask.uses.isEmpty || context.graph.outputs.contains(where: { $0 === mask }) {
      return .refused("mask output '\(mask.name)' of \(node.label) is used and becomes bool at opset 10")
    }
    guard var tensorType = mask.type?.tensorType, tensorType.elementType != .bool else { return .noMatch }
    return .rewrite { _ in
      tensorType.elementType = .bool
      mask.type?.kind = .tensor(tensorType)
    }
  }
}
