import Foundation

/// Lowers `DequantizeLinear -> Add|Mul -> QuantizeLinear` to ai.onnx integer ops with TFLite's
/// fixed-point arithmetic (target onnx, or `--requant fixed-point`), equal bit for bit to the
/// executor's QLinearAdd / QLinearMul in fixed-point mode.
///
/// Maths. Add (TFLite's quantized Add): with `m = 2 * max(s_a, s_b)`,
/// `x_a = MBQM((a_q - a_zp) << 20, s_a / m)`, `x_b = MBQM((b_q - b_zp) << 20, s_b / m)`,
/// `y_q = clamp(MBQM(x_a + x_b, m / (2^20 * s_y)) + y_zp)`, MBQM being
/// MultiplyByQuantizedMultiplier (FixedPointRequantization). Mul:
/// `y_q = clamp(MBQM((a_q - a_zp) * (b_q - b_zp), s_a * s_b / s_y) + y_zp)`, the product exact
/// in int32. Against the fake-quant graph both differ by at most 1 LSB (Add rounds three times).
/// ```
/// before: s = Add(a_dq, b_dq)   y_q = QuantizeLinear(s, sy, zy)
/// after:  xa = MBQM(a_q ...)   xb = MBQM(b_q ...)   t = Add(xa, xb)   y_q = Cast(Clip(MBQM(t ...)))
/// ```
/// Skip cases: 1. an operand is not behind a DequantizeLinear; 2. operands and output not all
/// 8-bit of one type; 3. not per tensor; 4. target ort with float requantization
/// (LowerBinaryToQLinear applies).
struct LowerBinaryToInteger: RewriteRule {
  let name = "Add/Mul -> integer fixed-point arithmetic"
  let options: LoweringOptions

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard options.integerArithmetic, let found = QuantizedBinary.read(node, model: model) else { return .noMatch }
    guard case .success(let binary) = found else { return refusal(found, "") }
    let (result, left, right, op) = (binary.result, binary.left, binary.right, binary.result.op)
    let output = result.parameters
    let (sa, sb, sy) = (Double(left.parameters.scales[0]), Double(right.parameters.scales[0]), Double(output.scales[0]))
    let (za, zb, zy) = (left.parameters.zeroPoints[0], right.parameters.zeroPoints[0], output.zeroPoints[0])
    return .rewrite { rewriter in
      rewriter.subjectLabel = op.label
      let name = op.name.isEmpty ? "" : op.name + "_quant"
      let final: Value
      if op.opType == "Add" {
        let twiceMaximum = 2 * max(sa, sb)
        let xa = try FixedPointRequantization.multiply(
          left.integer, realScales: [sa / twiceMaximum], preShift: 20, inputZeroPoint: za, channelShape: [],
          name: name, rewriter: rewriter)
        let xb = try FixedPointRequantization.multiply(
          right.integer, realScales: [sb / twiceMaximum], preShift: 20, inputZeroPoint: zb, channelShape: [],
          name: name, rewriter: rewriter)
        let sum = try Self.node("Add", [xa, xb], base: left.integer.name + "_sum", name: name, rewriter: rewriter)
        final = try FixedPointRequantization.build(
          sum, realScales: [twiceMaximum / (Double(1 << 20) * sy)], zeroPoint: zy, type: output.type, bounds: nil,
          channelShape: [], name: name, rewriter: rewriter)
      } else {
        let da = try Self.centred(left, name: name, rewriter: rewriter)
        let db = try Self.centred(right, name: name, rewriter: rewriter)
        let product = try Self.node(
          "Mul", [da, db], base: left.integer.name + "_product", name: name, rewriter: rewriter)
        final = try FixedPointRequantization.build(
          product, realScales: [sa * sb / sy], zeroPoint: zy, type: output.type, bounds: nil, channelShape: [],
          name: name, rewriter: rewriter)
      }
      try result.replace(with: final, removing: [op], operands: [left, right], rewriter: rewriter)
    }
  }

  /// `Cast<to=INT32>(x_q) - x_zp`.
  static func centred(_ operand: QuantizedOperand, name: String, rewriter: Rewriter) throws -> Value {
    let wide = try node(
      "Cast", [operand.integer], base: operand.integer.name + "_int32", name: name, rewriter: rewriter,
      attributes: [.int("to", Int64(DataType.int32.rawValue))])
    let zero = try rewriter.addConstant(
      operand.integer.name + "_zero_point_int32",
      HostTensor(.int32, shape: [], values: [operand.parameters.zeroPoints[0]]).irTensor(name: nil))
    return try node("Sub", [wide, zero], base: operand.integer.name + "_centred", name: name, rewriter: rewriter)
  }

  /// One new node with one output.
  static func node(
    _ opType: String, _ inputs: [Value], base: String, name: String, rewriter: Rewriter, attributes: [Attribute] = []
  ) throws -> Value {
    let created = try rewriter.insertNode(
      opType, name: name.isEmpty ? "" : "\(name)_\(opType)", inputs: inputs, outputBases: [base],
      attributes: attributes)
    guard let output = created.output else { throw ONNXQATError.badArgument("\(opType) '\(name)' made no output") }
    return output
  }
}
