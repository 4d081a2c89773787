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
/// Skip cases: 1. an operand is not behind a DequantizeLinear, or its parameters are not
/// constants; 2. x or y is not 8-bit, or not per tensor; 3. the weight is not 8-bit, or
/// quantized along an axis other than 0; 4. the bias cannot be made int32 (Int32Bias); 5. the
/// clamp's bounds are not constants.
struct LowerConvToQLinearConv: RewriteRule {
  let name = "Conv -> QLinearConv"

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard let found = QuantizedResult.match(node, model: model, ops: ["Conv"]) else { return .noMatch }
    guard case .success(let result) = found else { return refusal(found) }
    let conv = result.op
    let x = QuantizedOperand.of(conv.input(0), in: model, role: "input")
    let w = QuantizedOperand.of(conv.input(1), in: model, role: "weight")
    guard case .success(let input) = x else { return refusal(x, "skip 1") }
    guard case .success(let weight) = w else { return refusal(w, "skip 1") }
    let output = result.parameters
    guard input.isEightBit, input.parameters.isPerTensor, output.isPerTensor,
      output.type == .int8 || output.type == .uint8
    else { return .refused("skip 2: \(conv.label): input and output must be 8-bit and quantized per tensor") }
    guard weight.isEightBit, weight.parameters.blockSize == nil,
      weight.parameters.isPerTensor || weight.parameters.axis == 0
    else { return .refused("skip 3: \(conv.label): the weight must be 8-bit, per tensor or per output channel") }
    guard let channels = conv.input(1).flatMap({ weightChannels($0, weight, model) }) else {
      return .refused("skip 3: \(conv.label): the weight's output-channel count is unknown")
    }
    let bias = Int32Bias.make(
      conv.input(2), inputScale: input.parameters.scales[0], weightScales: weight.parameters.scales,
      channels: channels, model: model)
    guard case .success(let int32Bias) = bias else { return refusal(bias, "skip 4") }
    var clampBounds: (Int32, Int32)?
    if let clamp = result.clamp {
      let bounds = IntegerClamp.bounds(clamp, output: output, model: model)
      guard case .success(let value) = bounds else { return refusal(bounds, "skip 5") }
      clampBounds = value
    }
    return .rewrite { rewriter in
      rewriter.subjectLabel = conv.label
      SaturationWarning.check(input: input, weight: weight, op: conv, model: model, rewriter: rewriter)
      var inputs = try input.triple(rewriter) + weight.triple(rewriter) + result.outputPair(rewriter)
      if let int32Bias {
        if let old = int32Bias.requantizedFrom {
          rewriter.note("bias of \(conv.label) re-quantized from scale \(old.first ?? 0) to s_x * s_w")
        }
        inputs.append(
          try rewriter.addConstant((conv.input(2)?.name ?? conv.name) + "_int32", int32Bias.tensor.irTensor(name: nil)))
      }
      let attributes = conv.attributes
      let lowered = try rewriter.insertNode(
        "QLinearConv", name: conv.name.isEmpty ? "" : conv.name + "_quant", inputs: inputs,
        outputBases: [(result.quantize.output?.name ?? "y") + "_int"], attributes: attributes)
      guard let loweredOutput = lowered.output else { return }
      let final = try IntegerClamp.apply(
        clampBounds, to: loweredOutput, type: output.type, rewriter: rewriter, clamp: result.clamp)
      try result.replace(with: final, removing: [conv], operands: [input, weight], rewriter: rewriter)
    }
  }

  private func weightChannels(_ value: Value, _ weight: QuantizedOperand, _ model: Model) -> Int? {
    if let tensor = weight.integer.constantTensor(in: model), let first = tensor.dims.first { return Int(first) }
    return weight.parameters.isPerTensor ? nil : weight.parameters.scales.count
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
  if case .failure(let refusal) = result { return .refused("\(prefix): \(refusal.reason)") }
  return .noMatch
}
