import Foundation

/// Lowers `DequantizeLinear -> Concat -> QuantizeLinear`: a plain integer `Concat` when every
/// input has the output's parameters (exact), otherwise onnxruntime's
/// `com.microsoft.QLinearConcat`, which requantizes the inputs that differ (target ort, float
/// requantization), or, for the onnx target and fixed-point requantization, a plain `Concat`
/// after each differing input is requantized with integer ops
/// (`clamp(MBQM((x_q - x_zp) << 20, s_x / (s_y * 2^20)) + y_zp)`, FixedPointRequantization;
/// at most 1 LSB from the fake-quant graph).
/// ```
/// before: c = Concat<axis=1>(a_dq, b_dq)   y_q = QuantizeLinear(c, sy, zy)
/// after:  y_q = Concat<axis=1>(a_q, b_q)                                       (equal parameters)
///         y_q = com.microsoft.QLinearConcat<axis=1>(sy, zy, a_q, sa, za, b_q, sb, zb)   (ort, float)
///         y_q = Concat<axis=1>(a_q, Cast(Clip(MBQM(b_q ...))))                       (integer)
/// ```
/// Skip cases: 1. an input is not behind a DequantizeLinear; 2. inputs and output not one 8-bit
/// type per tensor; 3. (retired: differing parameters are requantized with integer ops).
struct LowerConcat: RewriteRule {
  let name = "Concat -> integer Concat/QLinearConcat"
  let options: LoweringOptions

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard let found = QuantizedResult.match(node, model: model, ops: ["Concat"]) else { return .noMatch }
    guard case .success(let result) = found else { return refusal(found) }
    guard result.clamp == nil else { return .noMatch }
    let op = result.op
    var operands: [QuantizedOperand] = []
    for (index, value) in op.inputs.enumerated() {
      let operand = QuantizedOperand.of(value, in: model, role: "input \(index)")
      guard case .success(let found) = operand else { return refusal(operand) }
      operands.append(found)
    }
    let output = result.parameters
    guard output.type == .int8 || output.type == .uint8, output.isPerTensor,
      operands.allSatisfy({ $0.parameters.type == output.type && $0.parameters.isPerTensor })
    else { return .refused("skip 2: \(op.label): inputs and output must share one 8-bit type, per tensor") }
    let equal = operands.allSatisfy {
      $0.parameters.scales == output.scales && $0.parameters.zeroPoints == output.zeroPoints
    }
    return .rewrite { rewriter in
      rewriter.subjectLabel = op.label
      let base = (result.quantize.output?.name ?? "y") + "_int"
      let lowered: Node
      let name = op.name.isEmpty ? "" : op.name + "_quant"
      if equal || options.integerArithmetic {
        var inputs: [Value] = []
        for operand in operands {
          let same = operand.parameters.scales == output.scales && operand.parameters.zeroPoints == output.zeroPoints
          guard !same else {
            inputs.append(operand.integer)
            continue
          }
          // Shifted left by 20 bits first, as TFLite's Add does, so that the high multiply
          // keeps the fraction and only the final shift rounds.
          let real = Double(operand.parameters.scales[0]) / Double(output.scales[0])
          let scaled = try FixedPointRequantization.multiply(
            operand.integer, realScales: [real / Double(1 << 20)], preShift: 20,
            inputZeroPoint: operand.parameters.zeroPoints[0], addend: Int64(output.zeroPoints[0]), channelShape: [],
            name: name, rewriter: rewriter)
          inputs.append(
            try FixedPointRequantization.narrow(scaled, type: output.type, bounds: nil, name: name, rewriter: rewriter))
        }
        lowered = try rewriter.insertNode(
          "Concat", name: name, inputs: inputs, outputBases: [base], attributes: op.attributes)
      } else {
        var inputs = try result.outputPair(rewriter)
        for operand in operands {
          inputs += try operand.triple(rewriter)
        }
        lowered = try rewriter.insertNode(
          "QLinearConcat", domain: "com.microsoft", name: name, inputs: inputs,
          outputBases: [base], attributes: op.attributes)
      }
      guard let loweredOutput = lowered.output else { return }
      try result.replace(with: loweredOutput, removing: [op], operands: operands, rewriter: rewriter)
    }
  }
}
