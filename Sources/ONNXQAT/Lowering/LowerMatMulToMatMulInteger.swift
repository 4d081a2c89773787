import Foundation

/// Lowers `DequantizeLinear -> MatMul|Gemm [-> Relu|Clip] -> QuantizeLinear` to `MatMulInteger`,
/// an int32 bias `Add` (Gemm) and the integer requantization of FixedPointRequantization
/// (`--requant fixed-point`, either target; Gemm also for `--target onnx`, which has no QGemm):
/// no float anywhere.
///
/// Maths: `acc = (a_q - a_zp) @ (b_q - b_zp[n]) + c_q` in int32 (c_q at `s_a * s_b[n]`), then
/// `y_q = clamp(MultiplyByQuantizedMultiplier(acc, M[n], shift[n]) + y_zp)` with `(M, shift)` =
/// QuantizeMultiplier(`alpha * s_a * s_b[n] / s_y`, in Double), equal bit for bit to
/// QLinearMatMul / QGemm run by the executor in fixed-point mode. A Gemm's `transB` is applied
/// to the constant integer weight at lowering time.
/// ```
/// before: g = Gemm<transB=1>(a_dq, b_dq, c)   y_q = QuantizeLinear(g, sy, zy)
/// after:  acc = MatMulInteger(a_q, b_q_t, za, zb)   accb = Add(acc, c_q)
///         y_q = Cast<to=UINT8>(Clip(... integer requantization of accb ...))
/// ```
/// Skip cases: 1. an operand is not behind a DequantizeLinear; 2. A, B or the output is not
/// 8-bit; 3. A or the output not per tensor, B not per tensor or per output column (2-D);
/// 4. Gemm with transA, with beta other than 1, or with a bias and alpha other than 1; 5. Gemm
/// with transB whose B is not a constant; 6. the bias cannot be made int32; 7. the clamp's
/// bounds are not constants; 8. float requantization (QLinearMatMul applies to MatMul, and to
/// Gemm QGemm for the ort target).
struct LowerMatMulToMatMulInteger: RewriteRule {
  let name = "MatMul/Gemm -> MatMulInteger + fixed-point requantization"
  let options: LoweringOptions

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    let ops: Set<String> =
      options.requantization == .fixedPoint ? ["MatMul", "Gemm"] : options.integerArithmetic ? ["Gemm"] : []
    guard !ops.isEmpty, let found = QuantizedResult.match(node, model: model, ops: ops) else { return .noMatch }
    guard case .success(let result) = found else { return refusal(found) }
    let op = result.op
    let isGemm = op.opType == "Gemm"
    let a = QuantizedOperand.of(op.input(0), in: model, role: "input A")
    let b = QuantizedOperand.of(op.input(1), in: model, role: "input B")
    guard case .success(let left) = a else { return refusal(a) }
    guard case .success(let right) = b else { return refusal(b) }
    let output = result.parameters
    guard left.isEightBit, right.isEightBit, output.type == .int8 || output.type == .uint8 else {
      return .refused("skip 2: \(op.label): A, B and the output must be 8-bit")
    }
    let transB = isGemm && op.int("transB", default: 0) == 1
    let stored = right.integer.constantHostTensor(in: model)
    let rank = stored?.shape.count ?? right.integer.type?.tensorType?.shape?.dims.count
    guard left.parameters.isPerTensor, output.isPerTensor, right.parameters.blockSize == nil,
      right.parameters.isPerTensor
        || (rank == 2 && (right.parameters.axis == (transB ? 0 : 1) || (!transB && right.parameters.axis == -1)))
    else { return .refused("skip 3: \(op.label): A and the output per tensor, B per tensor or per output column") }
    let alpha = isGemm ? op.float("alpha", default: 1) : 1
    let hasBias = isGemm && op.input(2) != nil
    guard !isGemm || (op.int("transA", default: 0) == 0 && op.float("beta", default: 1) == 1),
      !hasBias || alpha == 1
    else { return .refused("skip 4: \(op.label): transA, beta other than 1, or a bias with alpha other than 1") }
    guard !transB || stored?.shape.count == 2 else {
      return .refused("skip 5: \(op.label): transB needs a constant 2-D B")
    }
    var int32Bias: Int32Bias.Result?
    if hasBias {
      guard let columns = stored?.shape[transB ? 0 : 1] else {
        return .refused("skip 6: \(op.label): B is not a constant, so the bias length is unknown")
      }
      let bias = Int32Bias.make(
        op.input(2), inputScale: left.parameters.scales[0], weightScales: right.parameters.scales, channels: columns,
        model: model)
      guard case .success(let made) = bias else { return refusal(bias, "skip 6") }
      int32Bias = made
    }
    var clampBounds: (Int32, Int32)?
    if let clamp = result.clamp {
      let bounds = IntegerClamp.bounds(clamp, output: output, model: model)
      guard case .success(let value) = bounds else { return refusal(bounds, "skip 7") }
      clampBounds = value
    }
    let aScale = Double(left.parameters.scales[0])
    let realScales = right.parameters.scales.map { Double(alpha) * aScale * Double($0) / Double(output.scales[0]) }
    return .rewrite { rewriter in
      rewriter.subjectLabel = op.label
      SaturationWarning.check(input: left, weight: right, op: op, model: model, rewriter: rewriter)
      let base = result.quantize.output?.name ?? "y"
      let nodeName = op.name.isEmpty ? "" : op.name + "_quant"
      var weight = right.integer
      if transB, let stored {
        weight = try rewriter.addConstant(
          right.integer.name + "_transposed", Self.transposed(stored).irTensor(name: nil))
      }
      let aTriple = try left.triple(rewriter)
      let bTriple = try right.triple(rewriter)
      let product = try rewriter.insertNode(
        "MatMulInteger", name: nodeName, inputs: [aTriple[0], weight, aTriple[2], bTriple[2]],
        outputBases: [base + "_acc"])
      guard let sum = product.output else { return }
      let columns = realScales.count
      var bias: Value?
      if let int32Bias {
        if let old = int32Bias.requantizedFrom {
          rewriter.note("bias of \(op.label) re-quantized from scale \(old.first ?? 0) to s_a * s_b")
        }
        bias = try rewriter.addConstant((op.input(2)?.name ?? op.name) + "_int32", int32Bias.tensor.irTensor(name: nil))
      }
      let accumulator = try LowerConvToConvInteger.addBias(bias, to: sum, name: nodeName, rewriter: rewriter)
      let final = try FixedPointRequantization.build(
        accumulator, realScales: realScales, zeroPoint: output.zeroPoints[0], type: output.type,
        bounds: clampBounds, channelShape: [columns], name: nodeName, rewriter: rewriter)
      try result.replace(with: final, removing: [op], operands: [left, right], rewriter: rewriter)
    }
  }

  /// A 2-D integer tensor transposed.
  static func transposed(_ tensor: HostTensor) -> HostTensor {
    let (rows, columns) = (tensor.shape[0], tensor.shape[1])
    let values = QuantizedValues.int32s(tensor) ?? []
    var out = [Int32](repeating: 0, count: values.count)
    for r in 0..<rows {
      for c in 0..<columns { out[c * rows + r] = values[r * columns + c] }
    }
    return QuantizedValues.tensor(out, type: tensor.dataType, shape: [columns, rows])
  }
}
