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
    guard !options.integerArithmetic, let found = QuantizedPool.read(node, model: model) else { return .noMatch }
    guard case .success(let pool) = found else { return refusal(found, "") }
    let (result, input, op) = (pool.result, pool.input, pool.result.op)
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

/// `DequantizeLinear -> AveragePool|GlobalAveragePool -> QuantizeLinear` read and checked once for
/// both pooling rules (skip cases 1-2 of LowerPoolingToQLinear and LowerPoolingToInteger); nil
/// when the pattern does not apply.
struct QuantizedPool {
  var result: QuantizedResult
  var input: QuantizedOperand

  static func read(_ node: Node, model: Model) -> Result<QuantizedPool, LoweringRefusal>? {
    guard let found = QuantizedResult.match(node, model: model, ops: ["AveragePool", "GlobalAveragePool"]) else {
      return nil
    }
    guard case .success(let result) = found else { return .failure(prefixed(found, "skip 1")) }
    guard result.clamp == nil else { return nil }
    let op = result.op
    let x = QuantizedOperand.of(op.input(0), in: model, role: "input")
    guard case .success(let input) = x else { return .failure(prefixed(x, "skip 1")) }
    let output = result.parameters
    guard input.isEightBit, input.parameters.type == output.type, input.parameters.isPerTensor, output.isPerTensor
    else { return .failure(.init("skip 2: \(op.label): input and output must share one 8-bit type, per tensor")) }
    return .success(QuantizedPool(result: result, input: input))
  }
}
