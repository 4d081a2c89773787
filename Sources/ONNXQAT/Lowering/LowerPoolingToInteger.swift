import Foundation

/// Lowers `DequantizeLinear -> GlobalAveragePool|AveragePool -> QuantizeLinear` to an integer
/// window sum and the fixed-point requantization of FixedPointRequantization (target onnx, or
/// `--requant fixed-point`).
///
/// Maths: `acc = sum over the window of (x_q - x_zp)` in int32; the divisor is folded into the
/// real multiplier, `y_q = clamp(MBQM(acc, s_x / (s_y * count)) + y_zp)`, so one rounding
/// happens (at most 1 LSB from the fake-quant graph's float average). GlobalAveragePool sums
/// with `ReduceSum` over the spatial axes (equal bit for bit to the executor's
/// QLinearGlobalAveragePool in fixed-point mode); AveragePool sums with a depthwise
/// `ConvInteger` of ones (`group = C`), which needs every window full (no padding, no ceil_mode)
/// so that `count` is the kernel size everywhere.
/// ```
/// before: p = GlobalAveragePool(x_dq)   y_q = QuantizeLinear(p, sy, zy)
/// after:  xi = Cast<to=INT32>(x_q)   s = ReduceSum<keepdims=1>(xi, axes)   y_q = Cast(Clip(MBQM(s - zx * HW)))
/// ```
/// Skip cases: 1. the input is not behind a DequantizeLinear; 2. input and output not one 8-bit
/// type per tensor; 3. the input's spatial size (GlobalAveragePool) or channel count
/// (AveragePool) is not known statically; 4. AveragePool with padding, ceil_mode or dilations;
/// 5. target ort with float requantization (LowerPoolingToQLinear applies).
struct LowerPoolingToInteger: RewriteRule {
  let name = "AveragePool -> integer sum + fixed-point requantization"
  let options: LoweringOptions
  /// Input shapes of the pools (PoolInputShapes), by input value.
  var shapes: [ObjectIdentifier: [Int]] = [:]

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard options.integerArithmetic, let found = QuantizedPool.read(node, model: model) else { return .noMatch }
    guard case .success(let pool) = found else { return refusal(found, "") }
    let (result, input, op, output) = (pool.result, pool.input, pool.result.op, pool.result.parameters)
    let shape = Self.staticShape(input.integer) ?? op.input(0).flatMap { shapes[ObjectIdentifier($0)] }
    let isGlobal = op.opType == "GlobalAveragePool"
    guard let shape, shape.count >= 3, shape[1...].allSatisfy({ $0 > 0 }) else {
      return .refused("skip 3: \(op.label): the input's shape is not known statically")
    }
    let kernel = op.ints("kernel_shape", default: [])
    let rank = shape.count - 2
    if !isGlobal {
      let pads = op.ints("pads", default: [])
      var autoPad = "NOTSET"
      if case .string(let value)? = op.attribute("auto_pad")?.value { autoPad = String(decoding: value, as: UTF8.self) }
      guard kernel.count == rank, pads.allSatisfy({ $0 == 0 }), autoPad == "NOTSET" || autoPad == "VALID",
        op.int("ceil_mode", default: 0) == 0, op.ints("dilations", default: []).allSatisfy({ $0 == 1 })
      else { return .refused("skip 4: \(op.label): padding, ceil_mode or dilations (windows of differing counts)") }
    }
    let count = isGlobal ? shape[2...].reduce(1, *) : kernel.reduce(1, *).asInt
    let real = Double(input.parameters.scales[0]) / (Double(output.scales[0]) * Double(count))
    let zeroPoint = input.parameters.zeroPoints[0]
    return .rewrite { rewriter in
      rewriter.subjectLabel = op.label
      let name = op.name.isEmpty ? "" : op.name + "_quant"
      let base = input.integer.name
      let sum: Value
      var inputZeroPoint: Int32 = 0
      if isGlobal {
        let wide = try LowerBinaryToInteger.node(
          "Cast", [input.integer], base: base + "_int32", name: name, rewriter: rewriter,
          attributes: [.int("to", Int64(DataType.int32.rawValue))])
        let axes = (2..<shape.count).map { Int64($0) }
        if (model.opsetVersion("") ?? 13) >= 13 {
          let axesValue = try rewriter.addConstant(
            base + "_axes", HostTensor(.int64, shape: [axes.count], values: axes).irTensor(name: nil))
          sum = try LowerBinaryToInteger.node(
            "ReduceSum", [wide, axesValue], base: base + "_sum", name: name, rewriter: rewriter,
            attributes: [.int("keepdims", 1)])
        } else {
          sum = try LowerBinaryToInteger.node(
            "ReduceSum", [wide], base: base + "_sum", name: name, rewriter: rewriter,
            attributes: [.ints("axes", axes), .int("keepdims", 1)])
        }
        inputZeroPoint = Int32(truncatingIfNeeded: Int(zeroPoint) * count)
      } else {
        let channels = shape[1]
        let ones = try rewriter.addConstant(
          base + "_window_ones",
          QuantizedValues.tensor(
            [Int32](repeating: 1, count: channels * count), type: .uint8,
            shape: [channels, 1] + kernel.map { Int($0) }
          ).irTensor(name: nil))
        let onesZero = try rewriter.addConstant(
          base + "_window_ones_zero_point", QuantizedValues.tensor([0], type: .uint8, shape: []).irTensor(name: nil))
        let triple = try input.triple(rewriter)
        let attributes = op.attributes.filter { ["kernel_shape", "strides"].contains($0.name) }
        sum = try LowerBinaryToInteger.node(
          "ConvInteger", [input.integer, ones] + [triple[2], onesZero].compactMap { $0 }, base: base + "_window_sum",
          name: name, rewriter: rewriter, attributes: attributes + [.int("group", Int64(channels))])
      }
      let scaled = try FixedPointRequantization.multiply(
        sum, realScales: [real], inputZeroPoint: inputZeroPoint, addend: Int64(output.zeroPoints[0]),
        channelShape: [], name: name, rewriter: rewriter)
      let final = try FixedPointRequantization.narrow(
        scaled, type: output.type, bounds: nil, name: name, rewriter: rewriter)
      try result.replace(with: final, removing: [op], operands: [input], rewriter: rewriter)
    }
  }

  /// The value's dimensions when all are known.
  static func staticShape(_ value: Value) -> [Int]? {
    guard let dims = value.type?.tensorType?.shape?.dims else { return nil }
    var shape: [Int] = []
    for dimension in dims {
      guard case .known(let size) = dimension.size else { return nil }
      shape.append(Int(size))
    }
    return shape
  }
}

extension Int64 {
  fileprivate var asInt: Int { Int(self) }
}
