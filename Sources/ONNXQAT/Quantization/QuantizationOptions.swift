import Foundation

/// Everything `onnx-qat insert` can be told, as flags or as a recipe: the preset, activation and
/// weight schemes, where Q/DQ go, what stays float, and per-op-type and per-tensor overrides.
public struct QuantizationOptions: Sendable {
  /// The form weights take in the output.
  public enum WeightsForm: String, Codable, Sendable {
    /// Float initializer -> QuantizeLinear -> DequantizeLinear: what QAT frameworks train and export.
    case qdq
    /// Integer initializer -> DequantizeLinear: the deployable form.
    case dq
  }

  public var preset: QuantizationPreset = .ort
  public var activationType: QuantType = .uint8
  public var activationSymmetric = false
  /// int8 or int4 weights; symmetric weights use the restricted range.
  public var weightType: QuantType = .int8Restricted
  public var weightSymmetric = true
  /// 7-bit weights ([-64, 64] for int8), as onnxruntime's `reduce_range`: onnxruntime's AVX2
  /// uint8 x int8 kernels (CPUs without VNNI) add pairs of products in int16 with saturation,
  /// which full-range int8 weights can overflow; 7-bit weights cannot.
  public var reduceRange = false
  /// Per-channel along each op's output-channel axis (false: one scale per weight).
  public var perChannel = true
  /// Block size for blocked weights (int4 with --block-size); nil: per channel or per tensor.
  public var blockSize: Int?
  public var weightsForm: WeightsForm = .qdq
  /// Node names or op types left float.
  public var exclude: [String] = []
  /// No Q/DQ on the graph's input and output tensors.
  public var keepIOFloat = false
  public var calibration = CalibrationOptions()
  /// Per-op-type overrides (recipe `op_types`).
  public var opTypeOverrides: [String: TensorOverride] = [:]
  /// Per-tensor overrides (recipe `tensors`), by tensor name.
  public var tensorOverrides: [String: TensorOverride] = [:]

  public init() {}

  /// Options with a preset's defaults.
  public init(preset: QuantizationPreset) {
    self.preset = preset
    activationType = preset.activations.type
    activationSymmetric = preset.activations.symmetric
  }

  /// The override for `value`: by its name, else by the op type of its producer, or for a
  /// constant (weight, bias) by the op type of its first consumer.
  public func override(for value: Value) -> TensorOverride? {
    if let byName = tensorOverrides[value.name] { return byName }
    let opType = value.producer?.opType ?? (value.initializer != nil ? value.firstUser?.opType : nil)
    return opType.flatMap { opTypeOverrides[$0] }
  }

  /// The lowest ai.onnx opset the output needs: 13 for per-channel Q/DQ, 21 for int4, int16
  /// and blocked Q/DQ, 10 otherwise.
  public var requiredOpset: Int64 {
    var types = [activationType, weightType]
    types += opTypeOverrides.values.compactMap(\.type) + tensorOverrides.values.compactMap(\.type)
    var required = types.map(\.minimumOpset).max() ?? 10
    if blockSize != nil { required = max(required, 21) }
    if perChannel || opTypeOverrides.values.contains(where: { $0.perChannelAxis != nil })
      || tensorOverrides.values.contains(where: { $0.perChannelAxis != nil })
    {
      required = max(required, 13)
    }
    return required
  }
}

/// An override of how one tensor, or the tensors of one op type, are quantized.
public struct TensorOverride: Sendable, Equatable {
  /// Leave float (no Q/DQ).
  public var keepFloat = false
  public var type: QuantType?
  public var symmetric: Bool?
  /// Per-channel axis for a weight (nil: the op's default); -1 after normalisation means per tensor.
  public var perChannelAxis: Int?
  /// A fixed scale and zero point instead of calibration.
  public var scale: Float?
  public var zeroPoint: Int32?

  public init() {}
}
