import Foundation

/// Lowers `DequantizeLinear -> Add|Mul -> QuantizeLinear` to onnxruntime's
/// `com.microsoft.QLinearAdd` / `QLinearMul` (target ort).
///
/// Maths: `y_q = saturate(round((s_a (a_q - a_zp) + s_b (b_q - b_zp)) / s_y) + y_zp)` (Add) or
/// `round(s_a s_b (a_q - a_zp)(b_q - b_zp) / s_y) + y_zp` (Mul), as onnxruntime computes them.
/// ```
/// before: s = Add(a_dq, b_dq)   y_q = QuantizeLinear(s, sy, zy)
/// after:  y_q = com.microsoft.QLinearAdd(a_q, sa, za, b_q, sb, zb, sy, zy)
/// ```
/// Skip cases: 1. an operand is not behind a DequantizeLinear; 2. operands and output not all
/// 8-bit of one type; 3. not per tensor; 4. the target is onnx or the requantization fixed-point
/// (LowerBinaryToInteger applies).
struct LowerBinaryToQLinear: RewriteRule {
  let name = "Add/Mul -> QLinearAdd/QLinearMul"
  let options: LoweringOptions

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard !options.integerArithmetic, let found = QuantizedBinary.read(node, model: model) else { return .noMatch }
    guard case .success(let binary) = found else { return refusal(found, "") }
    let (result, left, right, op) = (binary.result, binary.left, binary.right, binary.result.op)
    return .rewrite { rewriter in
      rewriter.subjectLabel = op.label
      let lowered = try rewriter.insertNode(
        "QLinear" + op.opType, domain: "com.microsoft", name: op.name.isEmpty ? "" : op.name + "_quant",
        inputs: try left.triple(rewriter) + right.triple(rewriter) + result.outputPair(rewriter),
        outputBases: [(result.quantize.output?.name ?? "y") + "_int"])
      guard let loweredOutput = lowered.output else { return }
      try result.replace(with: loweredOutput, removing: [op], operands: [left, right], rewriter: rewriter)
    }
  }
}

/// `DequantizeLinear -> Add|Mul -> QuantizeLinear` read and checked once for both binary rules
/// (skip cases 1-3 of LowerBinaryToQLinear and LowerBinaryToInteger); nil when the pattern does
/// not apply (a clamp between the op and the Q is not matched).
struct QuantizedBinary {
  var result: QuantizedResult
  var left: QuantizedOperand
  var right: QuantizedOperand

  static func read(_ node: Node, model: Model) -> Result<QuantizedBinary, LoweringRefusal>? {
    guard let found = QuantizedResult.match(node, model: model, ops: ["Add", "Mul"]) else { return nil }
    guard case .success(let result) = found else { return .failure(prefixed(found, "skip 1")) }
    guard result.clamp == nil else { return nil }
    let op = result.op
    let a = QuantizedOperand.of(op.input(0), in: model, role: "input A")
    let b = QuantizedOperand.of(op.input(1), in: model, role: "input B")
    guard case .success(let left) = a else { return .failure(prefixed(a, "skip 1")) }
    guard case .success(let right) = b else { return .failure(prefixed(b, "skip 1")) }
    let output = result.parameters
    guard left.isEightBit, left.parameters.type == right.parameters.type, left.parameters.type == output.type else {
      return .failure(.init("skip 2: \(op.label): A, B and the output must share one 8-bit type"))
    }
    guard left.parameters.isPerTensor, right.parameters.isPerTensor, output.isPerTensor else {
      return .failure(.init("skip 3: \(op.label): parameters must be per tensor"))
    }
    return .success(QuantizedBinary(result: result, left: left, right: right))
  }
}
