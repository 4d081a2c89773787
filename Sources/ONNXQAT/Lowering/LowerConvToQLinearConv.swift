import Foundation

/// Lowers `DequantizeLinear -> Conv [-> Relu|Clip] -> QuantizeLinear` to `QLinearConv`.
///
/// Maths: `y_q = saturate(round(((x_q - x_zp) * (w_q - w_zp) + b_q) * s_x * s_w / s_y) + y_zp)` with
/// the int32 bias `b_q` at scale `s_x * s_w` (Int32Bias); a clamp between the Conv and the Q is
/// absorbed when the output range makes it redundant, otherwise it becomes an integer Clip.
/// ```
/// before: x_dq = DequantizeLinear(x_q, sx, zx)  w_dq = DequantizeLinear<axis=0>(w_q, sw, zw)
///         c = Conv<pads=[1,1,1,1]>(x_dq, w_dq, b)   r = Relu(c)   y_q = QuantizeLinear(r, sy, zy)
/// after:  y_q = QLinearConv<pads=[1,1,1,1]>(x_q, sx, zx, w_q, sw, zw, sy, zy, b_q)
/// ```
/// Skip cases: those of QuantizedConv (1-5); 6. the requantization is fixed-point (then
/// LowerConvToConvInteger applies).
struct LowerConvToQLinearConv: RewriteRule {
  let name = "Conv -> QLinearConv"
  let requantization: ExecutionOptions.Requantization

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard requantization == .float, let found = QuantizedConv.read(node, model: model) else { return .noMatch }
    guard case .success(let match) = found else { return refusal(found, "") }
    let (conv, input, weight, result) = (match.conv, match.input, match.weight, match.result)
    return .rewrite { rewriter in
      rewriter.subjectLabel = conv.label
      SaturationWarning.check(input: input, weight: weight, op: conv, model: model, rewriter: rewriter)
      var inputs = try input.triple(rewriter) + weight.triple(rewriter) + result.outputPair(rewriter)
      if let bias = try match.biasConstant(shape: [match.channels], rewriter: rewriter) { inputs.append(bias) }
      let lowered = try rewriter.insertNode(
        "QLinearConv", name: conv.name.isEmpty ? "" : conv.name + "_quant", inputs: inputs,
        outputBases: [(result.quantize.output?.name ?? "y") + "_int"], attributes: conv.attributes)
      guard let loweredOutput = lowered.output else { return }
      let final = try IntegerClamp.apply(
        match.clampBounds, to: loweredOutput, type: result.parameters.type, rewriter: rewriter, clamp: result.clamp)
      try result.replace(with: final, removing: [conv], operands: [input, weight], rewriter: rewriter)
    }
  }
}

extension QuantizedOperand {
  /// The operand as the (value, scale, zero point) triple QLinear ops take; a missing zero point
  /// becomes a new constant 0 of the operand's type.
  func triple(_ rewriter: Rewriter) throws -> [Value?] {
    if let zeroPoint = parameters.zeroPointValue { return [integer, parameters.scaleValue, zeroPoint] }
    let zero = try rewriter.addConstant(
      integer.name + "_zero_point", QuantizedValues.tensor([0], type: parameters.type, shape: []).irTensor(name: nil))
    return [integer, parameters.scaleValue, zero]
  }
}

extension QuantizedResult {
  /// The output's (scale, zero point) pair; uint8 0 when the QuantizeLinear had no zero point.
  func outputPair(_ rewriter: Rewriter) throws -> [Value?] {
    if let zeroPoint = parameters.zeroPointValue { return [parameters.scaleValue, zeroPoint] }
    let zero = try rewriter.addConstant(
      (quantize.output?.name ?? "y") + "_zero_point",
      QuantizedValues.tensor([0], type: .uint8, shape: []).irTensor(name: nil))
    return [parameters.scaleValue, zero]
  }
}

/// A refusal from a failed read, prefixed with the skip case it belongs to.
func refusal<T>(_ result: Result<T, LoweringRefusal>, _ prefix: String = "skip 1") -> RuleMatch {
  if case .failure(let refusal) = result {
    return .refused(prefix.isEmpty ? refusal.reason : "\(prefix): \(refusal.reason)")
  }
  return .noMatch
}
