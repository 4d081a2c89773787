import Foundation

/// Keeps PRelu's per-channel slope across opset 7, where slope broadcasting became numpy-style.
///
/// Spec change (opset 7): PRelu-6 applied a slope of shape [C] per channel, along axis 1 of X
/// (as Caffe2 and PyTorch exporters wrote it); PRelu-7 broadcasts the slope to X
/// unidirectionally, aligning trailing dimensions, so [C] would meet X's last axis.
/// Maths: y[n, c, ...] = x < 0 ? slope[c] * x : x before and after, with the slope reshaped to
/// [C, 1, ..., 1] (rank(X) - 1 dimensions), which aligns C with axis 1.
///
/// Before (opset 6):  `y = PRelu (x, slope)`   (x: float[2,3,4,5], slope: float[3])
/// After (opset 13):
/// ```
/// slope_channels = Reshape (slope, slope_shape)   # slope_shape = int64[3] {-1, 1, 1}
/// y = PRelu (x, slope_channels)
/// ```
///
/// Skip cases:
/// 1. The rank of X or of the slope is unknown while the slope may hold more than one value;
///    refused.
/// 2. A slope of rank above 1 and below rank(X): its alignment under opset 6 is not defined;
///    refused.
struct PReluChannelSlope: OpsetConversion {
  let name = "prelu-channel-slope"

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard let x = node.input(0), let slope = node.input(1) else { return .noMatch }
    if let count = context.constantTensor(of: slope)?.count, count == 1 { return .noMatch }
    if let dims = slope.type?.tensorType?.shape?.dims, dims.allSatisfy({ $0.size == .known(1) }) { return .noMatch }
    // Skip 1.
    guard let rankX = context.rank(of: x), let rankSlope = context.rank(of: slope) else {
      return .refused(
        "rank of input or slope of \(node.label) is unknown, so the opset-6 channel slope cannot be aligned")
    }
    if rankSlope != 1 || rankX <= 2 {
      if rankSlope == rankX || rankSlope <= 1 { return .noMatch }
      // Skip 2.
      return .refused("slope of \(node.label) has rank \(rankSlope) for an input of rank \(rankX)")
    }
    return .rewrite { rewriter in
      guard let slope = node.input(1) else { throw ONNXQATError.refusedEdit("\(node.label) lost its slope") }
      let base = context.base(node)
      let shape = try context.addInt64s(base + "_slope_shape", [-1] + Array(repeating: 1, count: rankX - 2), rewriter)
      let reshaped = try context.insertNode(
        "Reshape", name: base + "_slope_channels", inputs: [slope, shape], output: slope.name + "_channels", rewriter)
      try node.replaceInput(at: 1, with: reshaped)
    }
  }
}
