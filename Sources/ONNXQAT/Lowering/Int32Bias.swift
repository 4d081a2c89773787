import Foundation

/// The int32 bias a QLinearConv or QGemm takes: scale `s_x * s_w[c]` (float32 product), zero
/// point 0 (DESIGN.md section 4).
///
/// Sources: 1. none; 2. a float constant, quantized as `round(b / (s_x * s_w[c]))`; 3. a
/// DequantizeLinear of an int32 constant whose scale is exactly `s_x * s_w` and zero point 0,
/// used as it is; 4. the same with another scale, re-quantized from its float value, and
/// reported. Anything else refuses (the node stays float).
enum Int32Bias {
  struct Result {
    var tensor: HostTensor
    /// Set when an integer bias had to be re-quantized (case 4): its old scale.
    var requantizedFrom: [Float]?
  }

  static func make(_ bias: Value?, inputScale: Float, weightScales: [Float], channels: Int, model: Model)
    -> Swift.Result<Result?, LoweringRefusal>
  {
    guard let bias else { return .success(nil) }
    let scales = (0..<channels).map { inputScale * weightScales[weightScales.count == 1 ? 0 : $0] }
    func quantize(_ values: [Float]) -> HostTensor {
      let q = values.enumerated().map { index, value -> Int32 in
        let r = (value / scales[index]).rounded(.toNearestOrEven)
        return Int32(min(max(r.isFinite ? r : 0, -2_147_483_648), 2_147_483_520))
      }
      return HostTensor(.int32, shape: [channels], values: q)
    }
    if let floats = bias.constantFloats(in: model), bias.constantTensor(in: model)?.elementType == .float {
      guard floats.values.count == channels else {
        return .failure(.init("bias '\(bias.name)' has \(floats.values.count) values for \(channels) channels"))
      }
      return .success(Result(tensor: quantize(floats.values), requantizedFrom: nil))
    }
    guard case .success(let operand) = QuantizedOperand.of(bias, in: model, role: "bias"),
      let stored = operand.integer.constantHostTensor(in: model), stored.dataType == .int32,
      stored.count == channels
    else {
      return .failure(
        .init("bias '\(bias.name)' is neither a float constant nor an int32 constant behind DequantizeLinear"))
    }
    let given =
      operand.parameters.scales.count == 1
      ? [Float](repeating: operand.parameters.scales[0], count: channels) : operand.parameters.scales
    let zeroPoints = operand.parameters.zeroPoints
    if given == scales && zeroPoints.allSatisfy({ $0 == 0 }) {
      return .success(Result(tensor: stored, requantizedFrom: nil))
    }
    let values = stored.values(Int32.self)
    let floats = (0..<channels).map { c -> Float in
      Float(values[c] - zeroPoints[zeroPoints.count == 1 ? 0 : c]) * given[c]
    }
    return .success(Result(tensor: quantize(floats), requantizedFrom: given))
  }
}
