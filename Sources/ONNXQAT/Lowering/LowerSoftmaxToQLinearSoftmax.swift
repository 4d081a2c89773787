import Foundation

/// Lowers `DequantizeLinear -> Softmax -> QuantizeLinear` to onnxruntime's
/// `com.microsoft.QLinearSoftmax` (target ort).
///
/// Maths (onnxruntime's kernel, reproduced by the executor): a 256-entry table of
/// `exp((i - 255) * s_x)` indexed relative to each row's maximum, a float sum per row, and
/// `y_q = round(t * floor(1 / s_y) / sum) + y_zp`. It departs from the fake-quant graph by about
/// an LSB (`floor(1 / s_y)` instead of `1 / s_y`); verify counts it.
/// ```
/// before: s = Softmax<axis=-1>(x_dq)   y_q = QuantizeLinear(s, sy, zy)
/// after:  y_q = com.microsoft.QLinearSoftmax<axis=-1, opset=13>(x_q, sx, zx, sy, zy)
/// ```
/// Skip cases: 1. the input is not behind a DequantizeLinear; 2. input and output not one 8-bit
/// type per tensor; 3. the target is onnx.
struct LowerSoftmaxToQLinearSoftmax: RewriteRule {
  let name = "Softmax -> QLinearSoftmax"
  let target: LoweringOptions.Target

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard let found = QuantizedResult.match(node, model: model, ops: ["Softmax"]) else { return .noMatch }
    guard case .success(let result) = found else { return refusal(found) }
    guard result.clamp == nil else { return .noMatch }
    let op = result.op
    guard target == .ort else { return .refused("skip 3: \(op.label): QLinearSoftmax is an onnxruntime op") }
    let x = QuantizedOperand.of(op.input(0), in: model, role: "input")
    guard case .success(let input) = x else { return refusal(x) }
    let output = result.parameters
    guard input.isEightBit, input.parameters.type == output.type, input.parameters.isPerTensor, output.isPerTensor
    else {
      return .refused("skip 2: \(op.label): input and output must share one 8-bit type, per tensor")
    }
    let opset = model.opsetVersion("") ?? 13
    return .rewrite { rewriter in
      rewriter.subjectLabel = op.label
      var attributes = op.attributes.filter { $0.name == "axis" }
      attributes.append(.int("opset", opset))
      let lowered = try rewriter.insertNode(
        "QLinearSoftmax", domain: "com.microsoft", name: op.name.isEmpty ? "" : op.name + "_quant",
        inputs: try input.triple(rewriter) + result.outputPair(rewriter),
        outputBases: [(result.quantize.output?.name ?? "y") + "_int"], attributes: attributes)
      guard let loweredOutput = lowered.output else { return }
      try result.replace(with: loweredOutput, removing: [op], operands: [input], rewriter: rewriter)
    }
  }
}
