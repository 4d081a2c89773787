import Foundation

/// Lowers `DequantizeLinear -> MatMul -> QuantizeLinear` to `QLinearMatMul`.
///
/// Maths: `y_q = saturate(round((a_q - a_zp) @ (b_q - b_zp) * s_a * s_b / s_y) + y_zp)`, int32
/// accumulation; `b` per tensor or, when 2-D, per column.
/// ```
/// before: a_dq = DequantizeLinear(a_q, sa, za)  b_dq = DequantizeLinear<axis=1>(b_q, sb, zb)
///         m = MatMul(a_dq, b_dq)   y_q = QuantizeLinear(m, sy, zy)
/// after:  y_q = QLinearMatMul(a_q, sa, za, b_q, sb, zb, sy, zy)
/// ```
/// Skip cases: 1. an operand is not behind a DequantizeLinear; 2. a, b or y is not 8-bit;
/// 3. a or y is not per tensor, or b is quantized along an axis other than its last of two;
/// 4. a clamp between MatMul and Q (left to a separate integer Clip: not matched here); 5. the
/// requantization is fixed-point (LowerMatMulToMatMulInteger applies).
struct LowerMatMulToQLinearMatMul: RewriteRule {
  let name = "MatMul -> QLinearMatMul"
  let requantization: ExecutionOptions.Requantization

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard requantization == .float, let found = QuantizedResult.match(node, model: model, ops: ["MatMul"]) else {
      return .noMatch
    }
    guard case .success(let result) = found else { return refusal(found) }
    guard result.clamp == nil else { return .refused("skip 4: a clamp follows \(result.op.label)") }
    let matmul = result.op
    let a = QuantizedOperand.of(matmul.input(0), in: model, role: "input A")
    let b = QuantizedOperand.of(matmul.input(1), in: model, role: "input B")
    guard case .success(let left) = a else { return refusal(a) }
    guard case .success(let right) = b else { return refusal(b) }
    let output = result.parameters
    guard left.isEightBit, right.isEightBit, output.type == .int8 || output.type == .uint8 else {
      return .refused("skip 2: \(matmul.label): A, B and the output must be 8-bit")
    }
    let rightRank =
      right.integer.constantTensor(in: model)?.dims.count ?? right.integer.type?.tensorType?.shape?.dims.count
    guard left.parameters.isPerTensor, output.isPerTensor, right.parameters.blockSize == nil,
      right.parameters.isPerTensor || (rightRank == 2 && (right.parameters.axis == 1 || right.parameters.axis == -1))
    else { return .refused("skip 3: \(matmul.label): A and the output per tensor, B per tensor or per column") }
    return .rewrite { rewriter in
      rewriter.subjectLabel = matmul.label
      SaturationWarning.check(input: left, weight: right, op: matmul, model: model, rewriter: rewriter)
      let lowered = try rewriter.insertNode(
        "QLinearMatMul", name: matmul.name.isEmpty ? "" : matmul.name + "_quant",
        inputs: try left.triple(rewriter) + right.triple(rewriter) + result.outputPair(rewriter),
        outputBases: [(result.quantize.output?.name ?? "y") + "_int"])
      guard let loweredOutput = lowered.output else { return }
      try result.replace(with: loweredOutput, removing: [matmul], operands: [left, right], rewriter: rewriter)
    }
  }
}
