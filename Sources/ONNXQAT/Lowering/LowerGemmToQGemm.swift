import Foundation

/// Lowers `DequantizeLinear -> Gemm [-> Relu|Clip] -> QuantizeLinear` to onnxruntime's
/// `com.microsoft.QGemm` (target ort).
///
/// Maths: `y_q = saturate(round((alpha * s_a * s_b / s_y) * ((A' - a_zp) @ (B' - b_zp) + C_q)) + y_zp)`
/// with `C_q` int32 at scale `alpha`-free `s_a * s_b` when `alpha` is 1, A' and B' transposed as
/// the Gemm says.
/// ```
/// before: g = Gemm<transB=1>(a_dq, b_dq, c)   y_q = QuantizeLinear(g, sy, zy)
/// after:  y_q = com.microsoft.QGemm<transB=1>(a_q, sa, za, b_q, sb, zb, c_q, sy, zy)
/// ```
/// Skip cases: 1. an operand is not behind a DequantizeLinear; 2. not 8-bit; 3. A or the output
/// not per tensor, B not per tensor or per output column; 4. beta is not 1 or alpha is not 1
/// with a bias; 5. the bias cannot be made int32; 6. (retired); 7. the clamp's bounds are not
/// constants; 8. the target is onnx or the requantization fixed-point (LowerMatMulToMatMulInteger
/// applies).
struct LowerGemmToQGemm: RewriteRule {
  let name = "Gemm -> QGemm"
  let options: LoweringOptions

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard !options.integerArithmetic, let found = QuantizedResult.match(node, model: model, ops: ["Gemm"]) else {
      return .noMatch
    }
    guard case .success(let result) = found else { return refusal(found) }
    let gemm = result.op
    let a = QuantizedOperand.of(gemm.input(0), in: model, role: "input A")
    let b = QuantizedOperand.of(gemm.input(1), in: model, role: "input B")
    guard case .success(let left) = a else { return refusal(a) }
    guard case .success(let right) = b else { return refusal(b) }
    let output = result.parameters
    guard left.isEightBit, right.isEightBit, output.type == .int8 || output.type == .uint8 else {
      return .refused("skip 2: \(gemm.label): A, B and the output must be 8-bit")
    }
    let transB = gemm.int("transB", default: 0) == 1
    let columnAxis = transB ? 0 : 1
    guard left.parameters.isPerTensor, output.isPerTensor, right.parameters.blockSize == nil,
      right.parameters.isPerTensor || right.parameters.axis == columnAxis
    else { return .refused("skip 3: \(gemm.label): A and the output per tensor, B per tensor or per output column") }
    let alpha = gemm.float("alpha", default: 1)
    let beta = gemm.float("beta", default: 1)
    guard gemm.input(2) == nil || (beta == 1 && alpha == 1) else {
      return .refused("skip 4: \(gemm.label): a bias needs alpha = beta = 1")
    }
    guard let columns = right.integer.constantTensor(in: model)?.dims[transB ? 0 : 1] else {
      return .refused("skip 3: \(gemm.label): B is not a constant")
    }
    let bias = Int32Bias.make(
      gemm.input(2), inputScale: left.parameters.scales[0], weightScales: right.parameters.scales,
      channels: Int(columns), model: model)
    guard case .success(let int32Bias) = bias else { return refusal(bias, "skip 5") }
    var clampBounds: (Int32, Int32)?
    if let clamp = result.clamp {
      let bounds = IntegerClamp.bounds(clamp, output: output, model: model)
      guard case .success(let value) = bounds else { return refusal(bounds, "skip 7") }
      clampBounds = value
    }
    return .rewrite { rewriter in
      rewriter.subjectLabel = gemm.label
      SaturationWarning.check(input: left, weight: right, op: gemm, model: model, rewriter: rewriter)
      var biasValue: Value?
      if let int32Bias {
        if let old = int32Bias.requantizedFrom {
          rewriter.note("bias of \(gemm.label) re-quantized from scale \(old.first ?? 0) to s_a * s_b")
        }
        biasValue = try rewriter.addConstant(
          (gemm.input(2)?.name ?? gemm.name) + "_int32", int32Bias.tensor.irTensor(name: nil))
      }
      let attributes = gemm.attributes.filter { ["transA", "transB", "alpha"].contains($0.name) }
      let lowered = try rewriter.insertNode(
        "QGemm", domain: "com.microsoft", name: gemm.name.isEmpty ? "" : gemm.name + "_quant",
        inputs: try left.triple(rewriter) + right.triple(rewriter) + [biasValue] + result.outputPair(rewriter),
        outputBases: [(result.quantize.output?.name ?? "y") + "_int"], attributes: attributes)
      guard let loweredOutput = lowered.output else { return }
      let final = try IntegerClamp.apply(
        clampBounds, to: loweredOutput, type: output.type, rewriter: rewriter, clamp: result.clamp)
      try result.replace(with: final, removing: [gemm], operands: [left, right], rewriter: rewriter)
    }
  }
}
