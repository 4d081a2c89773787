import Foundation

/// Lowers `DequantizeLinear -> AveragePool|GlobalAveragePool -> QuantizeLinear` to onnxruntime's
/// `com.microsoft.QLinearAveragePool` / `QLinearGlobalAveragePool` (target ort).
///
/// Maths: the int32 sum of `x_q - x_zp` over the window, divided by the window's element count
/// and rescaled by `s_x / s_y` in float, rounded half to even, plus `y_zp` (onnxruntime's
/// kernels, which the executor reproduces bit for bit).
/// ```
/// before: p = GlobalAveragePool(x_dq)   y_q = QuantizeLinear(p, sy, zy)
/// after:  y_q = com.microsoft.QLinearGlobalAveragePool<channels_last=0>(x_q, sx, zx, sy, zy)
/// ```
/// Skip cases: 1. the input is not behind a DequantizeLinear; 2. input and output not one 8-bit
/// type per tensor; 3. the target is onnx or the requantization fixed-point
/// (LowerPoolingToInteger applies).
struct LowerPoolingToQLinear: RewriteRule {
  let name = "AveragePool -> QLinearAveragePool"
  let options: LoweringOptions

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard !options.integerArithmetic,
      let found = QuantizedResult.match(node, model: model, ops: ["AveragePool", "GlobalAveragePool"])
    else {
      return .noMatch
    }
    guard case .success(let result) = found else { return refusal(found) }
    guard result.clamp == nil else { return .noMatch }
    let op = result.op
    let x = QuantizedOperand.of(op.input(0), in: model, role: "input")
    guard case .success(let input) = x else { return refusal(x) }
    let output = result.parameters
    guard input.isEightBit, input.parameters.type == output.type, input.parameters.isPerTensor, output.isPerTensor
    else {
      return .refused("skip 2: \(op.label): input and output must share one 8-bit type, per tensor")
    }
    return .rewrite { rewriter in
      rewriter.subjectLabel = op.label
      var attributes = op.attributes
      if op.opType == "GlobalAveragePool" { attributes.append(.int("channels_last", 0)) }
      let lowered = try rewriter.insertNode(
        "QLinear" + op.opType, domain: "com.microsoft", name: op.name.isEmpty ? "" : op.name + "_quant",
        inputs: try input.triple(rewriter) + result.outputPair(rewriter),
        outputBases: [(result.quantize.output?.name ?? "y") + "_int"], attributes: attributes)
      guard let loweredOutput = lowered.output else { return }
      try result.replace(with: loweredOutput, removing: [op], operands: [input], rewriter: rewriter)
    }
  }
}
