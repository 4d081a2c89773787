import Foundation

/// `DequantizeLinear -> Conv [-> Relu|Clip] -> QuantizeLinear` read and checked once for the two
/// Conv rules (QLinearConv for float requantization, ConvInteger for fixed-point): the operands,
/// the output-channel count, the int32 bias and the integer clamp bounds.
///
/// Skip cases (cited by both rules): 1. an operand is not behind a DequantizeLinear, or its
/// parameters are not constants; 2. x or y is not 8-bit, or not per tensor; 3. the weight is not
/// 8-bit, or quantized along an axis other than 0; 4. the bias cannot be made int32 (Int32Bias);
/// 5. the clamp's bounds are not constants.
struct QuantizedConv {
  var result: QuantizedResult
  var input: QuantizedOperand
  var weight: QuantizedOperand
  var channels: Int
  var bias: Int32Bias.Result?
  var clampBounds: (Int32, Int32)?

  var conv: Node { result.op }

  /// The match at `node` (a QuantizeLinear), a refusal, or nil when the pattern does not apply.
  static func read(_ node: Node, model: Model) -> Result<QuantizedConv, LoweringRefusal>? {
    guard let found = QuantizedResult.match(node, model: model, ops: ["Conv"]) else { return nil }
    switch found {
    case .failure(let refusal): return .failure(.init("skip 1: \(refusal.reason)"))
    case .success(let result): return read(result, model: model)
    }
  }

  private static func read(_ result: QuantizedResult, model: Model) -> Result<QuantizedConv, LoweringRefusal> {
    let conv = result.op
    let x = QuantizedOperand.of(conv.input(0), in: model, role: "input")
    let w = QuantizedOperand.of(conv.input(1), in: model, role: "weight")
    guard case .success(let input) = x else { return .failure(prefixed(x, "skip 1")) }
    guard case .success(let weight) = w else { return .failure(prefixed(w, "skip 1")) }
    let output = result.parameters
    guard input.isEightBit, input.parameters.isPerTensor, output.isPerTensor,
      output.type == .int8 || output.type == .uint8
    else { return .failure(.init("skip 2: \(conv.label): input and output must be 8-bit and quantized per tensor")) }
    guard weight.isEightBit, weight.parameters.blockSize == nil,
      weight.parameters.isPerTensor || weight.parameters.axis == 0
    else {
      return .failure(.init("skip 3: \(conv.label): the weight must be 8-bit, per tensor or per output channel"))
    }
    let known = weight.integer.constantTensor(in: model)?.dims.first.map { Int($0) }
    guard let channels = known ?? (weight.parameters.isPerTensor ? nil : weight.parameters.scales.count) else {
      return .failure(.init("skip 3: \(conv.label): the weight's output-channel count is unknown"))
    }
    let bias = Int32Bias.make(
      conv.input(2), inputScale: input.parameters.scales[0], weightScales: weight.parameters.scales,
      channels: channels, model: model)
    guard case .success(let int32Bias) = bias else { return .failure(prefixed(bias, "skip 4")) }
    var clampBounds: (Int32, Int32)?
    if let clamp = result.clamp {
      let bounds = IntegerClamp.bounds(clamp, output: output, model: model)
      guard case .success(let value) = bounds else { return .failure(prefixed(bounds, "skip 5")) }
      clampBounds = value
    }
    return .success(
      QuantizedConv(
        result: result, input: input, weight: weight, channels: channels, bias: int32Bias, clampBounds: clampBounds))
  }

  /// The int32 bias as a new initializer of `shape` (noting a re-quantization), or nil.
  func biasConstant(shape: [Int], rewriter: Rewriter) throws -> Value? {
    guard let bias else { return nil }
    if let old = bias.requantizedFrom {
      rewriter.note("bias of \(conv.label) re-quantized from scale \(old.first ?? 0) to s_x * s_w")
    }
    let tensor = HostTensor(.int32, shape: shape, values: bias.tensor.values(Int32.self))
    return try rewriter.addConstant((conv.input(2)?.name ?? conv.name) + "_int32", tensor.irTensor(name: nil))
  }
}

/// The refusal of a failed read, prefixed with the skip case it belongs to.
func prefixed<T>(_ result: Result<T, LoweringRefusal>, _ prefix: String) -> LoweringRefusal {
  if case .failure(let refusal) = result { return .init("\(prefix): \(refusal.reason)") }
  return .init(prefix)
}
