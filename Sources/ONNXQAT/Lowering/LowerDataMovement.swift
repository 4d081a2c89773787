import Foundation

/// Moves data-movement ops into the integer domain: `DequantizeLinear -> op -> QuantizeLinear`
/// with equal parameters on both sides becomes `op` on the integers.
///
/// Maths: these ops only move, copy or select elements (MaxPool selects the largest, and
/// quantization is monotone), so `Q(op(DQ(x_q))) = op(Q(DQ(x_q))) = op(x_q)` when the output
/// parameters equal the input's (`Q(DQ(q)) = q` for any representable q). Pad in constant mode
/// pads with the quantized pad value; Resize only in nearest mode.
/// ```
/// before: x_dq = DequantizeLinear(x_q, s, z)  r = Reshape(x_dq, shape)  y_q = QuantizeLinear(r, s, z)
/// after:  y_q = Reshape(x_q, shape)
/// ```
/// Skip cases: 1. the data input is not behind a DequantizeLinear; 2. input and output
/// parameters differ (a requantization, which stays float); 3. parameters per axis; 4. Resize not
/// in nearest mode, or Pad not in constant mode; 5. a pad value that is not a constant scalar.
struct LowerDataMovement: RewriteRule {
  let name = "data movement -> integer"
  static let ops: Set<String> = [
    "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Slice", "Gather", "Identity", "DepthToSpace",
    "SpaceToDepth", "Expand", "Tile", "MaxPool", "GlobalMaxPool", "Resize", "Pad", "ReduceMax", "ReduceMin",
  ]

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard let found = QuantizedResult.match(node, model: model, ops: Self.ops) else { return .noMatch }
    guard case .success(let result) = found else { return refusal(found) }
    guard result.clamp == nil else { return .noMatch }
    let op = result.op
    guard op.output === result.quantize.input(0) else { return .refused("\(op.label) has several outputs") }
    let data = QuantizedOperand.of(op.input(0), in: model, role: "data input")
    guard case .success(let input) = data else { return refusal(data) }
    guard input.parameters.isPerTensor, result.parameters.isPerTensor else {
      return .refused("skip 3: \(op.label): parameters are per axis")
    }
    guard input.parameters.scales == result.parameters.scales,
      input.parameters.zeroPoints == result.parameters.zeroPoints,
      input.parameters.type == result.parameters.type
    else {
      return .refused(
        "skip 2: \(op.label): input scale \(input.parameters.scales[0]) zp \(input.parameters.zeroPoints[0]) and output"
          + " scale \(result.parameters.scales[0]) zp \(result.parameters.zeroPoints[0]) differ")
    }
    if op.opType == "Resize", case .string(let mode)? = op.attribute("mode")?.value,
      String(decoding: mode, as: UTF8.self) != "nearest"
    {
      return .refused("skip 4: \(op.label): Resize in \(String(decoding: mode, as: UTF8.self)) mode")
    }
    var padValue: Value?? = .none
    if op.opType == "Pad" {
      if case .string(let mode)? = op.attribute("mode")?.value, String(decoding: mode, as: UTF8.self) != "constant" {
        return .refused("skip 4: \(op.label): Pad in \(String(decoding: mode, as: UTF8.self)) mode")
      }
      if let value = op.input(2) {
        guard let floats = value.constantFloats(in: model)?.values, floats.count == 1 else {
          return .refused("skip 5: \(op.label): pad value '\(value.name)' is not a constant scalar")
        }
        padValue = .some(value)
        _ = floats
      }
    }
    return .rewrite { rewriter in
      rewriter.subjectLabel = op.label
      var inputs = op.inputs
      inputs[0] = input.integer
      if case .some(let value?) = padValue, let floats = value.constantFloats(in: model)?.values,
        let range = QuantizedValues.range(input.parameters.type)
      {
        let q =
          (floats[0] / input.parameters.scales[0]).rounded(.toNearestOrEven) + Float(input.parameters.zeroPoints[0])
        let clamped = Int32(min(max(q, Float(range.lowerBound)), Float(range.upperBound)))
        inputs[2] = try rewriter.addConstant(
          value.name + "_quantized",
          QuantizedValues.tensor([clamped], type: input.parameters.type, shape: []).irTensor(name: nil))
      } else if op.opType == "Pad", let zero = input.parameters.zeroPointValue {
        // Constant padding with 0.0 pads with the zero point in the integer domain.
        while inputs.count < 3 { inputs.append(nil) }
        inputs[2] = zero
      }
      let lowered = try rewriter.insertNode(
        op.opType, name: op.name.isEmpty ? "" : op.name + "_quant", inputs: inputs,
        outputBases: [(result.quantize.output?.name ?? "y") + "_int"], attributes: op.attributes)
      guard let loweredOutput = lowered.output else { return }
      try result.replace(with: loweredOutput, removing: [op], operands: [input], rewriter: rewriter)
    }
  }
}
