import Foundation

/// `DequantizeLinear -> ConvTranspose -> QuantizeLinear` stays a float island, named with why:
/// there is no integer form to lower it to.
///
/// onnxruntime 1.32 registers no `com.microsoft.QLinearConvTranspose` kernel (creating a session
/// with one fails: "not a registered function/op"), and ai.onnx has no integer ConvTranspose
/// (ConvInteger has no transposed variant), so neither target can run it on integers; the
/// fake-quant ConvTranspose is kept as it is, between its DequantizeLinear and QuantizeLinear.
/// ```
/// before: t = ConvTranspose(x_dq, w_dq)   y_q = QuantizeLinear(t, sy, zy)
/// after:  unchanged (reported as a float island)
/// ```
/// Skip cases: 1. always (the reason above).
struct ConvTransposeStaysFloat: RewriteRule {
  let name = "ConvTranspose (no integer form)"

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard let found = QuantizedResult.match(node, model: model, ops: ["ConvTranspose"]) else { return .noMatch }
    guard case .success(let result) = found else { return refusal(found) }
    return .refused(
      "skip 1: \(result.op.label): no integer ConvTranspose exists (onnxruntime 1.32 has no com.microsoft "
        + "QLinearConvTranspose kernel; ai.onnx has no integer transposed convolution)")
  }
}
