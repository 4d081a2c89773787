import Foundation

/// What `insert` did, as printed by `--json` and written by `--report`; its JSON Schema is
/// `Schemas/report.schema.json`.
public struct InsertReport: JSONReport, Codable, Equatable {
  /// One quantized tensor and its scheme.
  public struct QuantizedTensor: Codable, Equatable {
    /// activation, shared, fixed, weight, constant or bias.
    public var name: String
    public var role: String
    public var type: String
    public var symmetric: Bool
    public var axis: Int?
    public var blockSize: Int?
    /// The tensor whose parameters this one shares (data-movement outputs).
    public var sharedWith: String?
    /// The clipping range chosen by calibration (activations), or the fixed range.
    public var range: [Float]?
    /// The range seen on the calibration samples (activations).
    public var observed: [Float]?
    /// Scale and zero point for per-tensor parameters.
    public var scale: Float?
    public var zeroPoint: Int32?
    /// Number of scales and their extremes for per-channel and blocked parameters.
    public var scales: Int?
    public var minScale: Float?
    public var maxScale: Float?
  }

  /// A node left float and why.
  public struct FloatNode: Codable, Equatable {
    public var node: String
    public var opType: String
    public var reason: String
  }

  /// A Relu or Clip whose producer's quantization it absorbed.
  public struct Absorbed: Codable, Equatable {
    public var clamp: String
    public var into: String
  }

  /// Weight scales raised so that an int32 bias fits.
  public struct BiasAdjustment: Codable, Equatable {
    public var node: String
    public var bias: String
    public var channels: [Int]
  }

  public struct Change: Codable, Equatable {
    public var before: Int
    public var after: Int
  }

  /// Wall time of each stage of the library call (loading and saving are the caller's).
  public struct Seconds: Codable, Equatable {
    /// Folding, and the opset and IR version upgrades.
    public var fold: Double = 0
    /// The run that finds every value's element type, the plan, and the calibration runs.
    public var calibration: Double = 0
    /// Quantization parameters, int32 biases and the Q/DQ nodes written into the graph.
    public var insertion: Double = 0
    /// The fake-quant runs on the calibration samples and the error metrics.
    public var evaluation: Double = 0
    /// The whole call.
    public var total: Double = 0
  }

  public var verb = "insert"
  public var preset: String
  public var method: String
  public var weightsForm: String
  public var samples: Int
  /// True when the samples were synthetic (scales not meaningful).
  public var synthetic: Bool
  public var opset: Change
  public var nodes: Change
  public var rewrites: RewriteLog.Snapshot
  public var tensors: [QuantizedTensor]
  public var floatNodes: [FloatNode]
  public var absorbed: [Absorbed]
  public var biasAdjustments: [BiasAdjustment]
  public var warnings: [String]
  /// Float model against fake-quant model on the calibration samples, per graph output.
  public var error: [ErrorMetrics]
  public var seconds: Seconds

}
