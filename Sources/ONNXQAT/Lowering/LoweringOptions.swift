import Foundation

/// What `lower` is asked for.
public struct LoweringOptions: Sendable {
  /// The runtime the integer graph is for.
  public enum Target: String, Codable, CaseIterable, Sendable {
    /// Standard QLinear ops plus the com.microsoft ops onnxruntime runs.
    case ort
    /// ai.onnx ops only.
    case onnx
  }

  /// The runtime the integer graph is for (default ort).
  public var target: Target = .ort
  /// How int32 accumulators are requantized: `float` (QLinear ops, onnxruntime's arithmetic) or
  /// `fixedPoint` (ConvInteger/MatMulInteger and integer multiply-and-shift, no float at all).
  public var requantization: ExecutionOptions.Requantization = .float
  /// Any float island is an error.
  public var strict = false
  /// Expose integer graph inputs and outputs (their scales and zero points in the metadata).
  public var integerIO = false

  /// The defaults: target ort, float requantization, islands allowed, float inputs and outputs.
  public init() {}
}

extension LoweringOptions {
  /// Whether ops without an ai.onnx QLinear form (Gemm, Add, Mul, average pools, Concat of
  /// differing parameters) are lowered to integer ops with fixed-point requantization: always
  /// for the onnx target (its only integer form), and for the ort target with
  /// `--requant fixed-point`.
  public var integerArithmetic: Bool { target == .onnx || requantization == .fixedPoint }
}
