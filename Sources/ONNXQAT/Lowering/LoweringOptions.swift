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

  public var target: Target = .ort
  public var requantization: ExecutionOptions.Requantization = .float
  /// Any float island is an error.
  public var strict = false
  /// Expose integer graph inputs and outputs (their scales and zero points in the metadata).
  public var integerIO = false

  public init() {}
}
