import Foundation

/// The target a fake-quant graph is made for; it sets the defaults of `QuantizationOptions`.
///
/// | preset | activations | weights | where Q/DQ go |
/// |---|---|---|---|
/// | `ort` | uint8 asymmetric per tensor | int8 symmetric [-127, 127] per channel | inputs and outputs of every quantizable op |
/// | `tensorrt` | int8 symmetric per tensor | int8 symmetric per channel | inputs of Conv, ConvTranspose, Gemm, MatMul and residual Add only |
/// | `tflite` | int8 asymmetric per tensor | int8 symmetric [-127, 127] per channel | inputs and outputs of every quantizable op |
public enum QuantizationPreset: String, Codable, CaseIterable, Sendable {
  case ort, tensorrt, tflite

  /// Whether Q/DQ go only on the inputs of the compute ops (TensorRT's explicit quantization).
  public var inputsOnly: Bool { self == .tensorrt }

  /// The default activation type and symmetry.
  public var activations: (type: QuantType, symmetric: Bool) {
    switch self {
    case .ort: return (.uint8, false)
    case .tensorrt: return (.int8, true)
    case .tflite: return (.int8, false)
    }
  }
}
