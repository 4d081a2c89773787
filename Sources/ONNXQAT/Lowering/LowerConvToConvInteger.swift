import Foundation

/// Lowers `DequantizeLinear -> Conv [-> Relu|Clip] -> QuantizeLinear` to `ConvInteger`, an int32
/// bias `Add` and the integer requantization of FixedPointRequantization (`--requant
/// fixed-point`, either target): no float anywhere.
///
/// Maths: `acc = conv(x_q - x_zp, w_q - w_zp) + b_q` in int32 (b_q at `s_x * s_w[c]`), then
/// `y_q = clamp(MultiplyByQuantizedMultiplier(acc, M[c], shift[c]) + y_zp)` with `(M, shift)` =
/// QuantizeMultiplier(`s_x * s_w[c] / s_y`, in Double), equal bit for bit to QLinearConv run by
/// the executor in fixed-point mode. An absorbed Relu/Clip narrows the final clamp.
/// ```
/// before: x_dq = DequantizeLinear(x_q, sx, zx)  w_dq = DequantizeLinear<axis=0>(w_q, sw, zw)
///         c = Conv<pads=[1,1,1,1]>(x_dq, w_dq, b)   y_q = QuantizeLinear(c, sy, zy)
/// after:  acc = ConvInteger<pads=[1,1,1,1]>(x_q, w_q, zx, zw0)   accb = Add(acc, b_q[C,1,1])
///         y_q = Cast<to=UINT8>(Clip(... integer requantization of accb ...))
/// ```
/// Skip cases: those of QuantizedConv (1-5); 6. per-channel weight zero points that differ
/// (onnxruntime's ConvInteger takes one weight zero point; symmetric weights have all 0);
/// 7. the requantization is float (then LowerConvToQLinearConv applies).
struct LowerConvToConvInteger: RewriteRule {
  let name = "Conv -> ConvInteger + fixed-point requantization"
  let requantization: ExecutionOptions.Requantization

  /// `Add(accumulator, bias)` on int32 when there is a bias, else the accumulator.
  static func addBias(_ bias: Value?, to accumulator: Value, name: String, rewriter: Rewriter) throws -> Value {
    guard let bias else { return accumulator }
    let add = try rewriter.insertNode(
      "Add", name: name.isEmpty ? "" : name + "_bias", inputs: [accumulator, bias],
      outputBases: [accumulator.name + "_bias"])
    return add.output ?? accumulator
  }

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard requantization == .fixedPoint, let found = QuantizedConv.read(node, model: model) else { return .noMatch }
    guard case .success(let match) = found else { return refusal(found, "") }
    let (conv, input, weight, result) = (match.conv, match.input, match.weight, match.result)
    guard Set(weight.parameters.zeroPoints).count == 1 else {
      return .refused("skip 6: \(conv.label): per-channel weight zero points differ (ConvInteger takes one)")
    }
    let output = result.parameters
    let xScale = Double(input.parameters.scales[0])
    let realScales = weight.parameters.scales.map { xScale * Double($0) / Double(output.scales[0]) }
    return .rewrite { rewriter in
      rewriter.subjectLabel = conv.label
      SaturationWarning.check(input: input, weight: weight, op: conv, model: model, rewriter: rewriter)
      let rank = weight.integer.constantTensor(in: model)?.dims.count ?? 4
      let broadcast = [match.channels] + [Int](repeating: 1, count: max(rank - 2, 0))
      let x = try input.triple(rewriter)
      let weightZero = try rewriter.addConstant(
        weight.integer.name + "_zero_point",
        QuantizedValues.tensor([weight.parameters.zeroPoints[0]], type: weight.parameters.type, shape: [])
          .irTensor(name: nil))
      let base = result.quantize.output?.name ?? "y"
      let nodeName = conv.name.isEmpty ? "" : conv.name + "_quant"
      let convInteger = try rewriter.insertNode(
        "ConvInteger", name: nodeName, inputs: [x[0], weight.integer, x[2], weightZero],
        outputBases: [base + "_acc"], attributes: conv.attributes)
      guard let product = convInteger.output else { return }
      let accumulator = try Self.addBias(
        try match.biasConstant(shape: broadcast, rewriter: rewriter), to: product, name: nodeName, rewriter: rewriter)
      let final = try FixedPointRequantization.build(
        accumulator, realScales: realScales, zeroPoint: output.zeroPoints[0], type: output.type,
        bounds: match.clampBounds, channelShape: broadcast, name: nodeName, rewriter: rewriter)
      try result.replace(with: final, removing: [conv], operands: [input, weight], rewriter: rewriter)
    }
  }
}
