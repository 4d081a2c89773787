import Foundation

/// What `onnx-qat run --json` prints: per sample, each output's type and statistics, and the
/// time the run took. Schema: `Schemas/run.schema.json`.
public struct RunReport: JSONReport, Codable, Equatable, Sendable {
  public struct Output: Codable, Equatable, Sendable {
    public var name: String
    public var dtype: String
    public var shape: [Int]
    public var min: Double?
    public var max: Double?
    public var mean: Double?
    /// The `.npy` file written for this output, when an output folder was given.
    public var file: String?

    public init(name: String, tensor: HostTensor, file: String?) {
      self.name = name
      dtype = tensor.dataType.name
      shape = tensor.shape
      self.file = file
      guard tensor.dataType != .string, tensor.count > 0 else { return }
      // One pass, NaNs skipped; the sum runs in element order, in Double.
      var lowest = Double.infinity
      var highest = -Double.infinity
      var sum = 0.0
      var counted = 0
      @inline(__always) func add(_ value: Double) {
        guard !value.isNaN else { return }
        lowest = Swift.min(lowest, value)
        highest = Swift.max(highest, value)
        sum += value
        counted += 1
      }
      if tensor.dataType == .float {
        let values = UnsafePointer(tensor.pointer(Float.self))
        for index in 0..<tensor.count { add(Double(values[index])) }
      } else {
        for index in 0..<tensor.count { add(tensor.element(at: index)) }
      }
      guard counted > 0 else { return }
      min = lowest
      max = highest
      mean = sum / Double(counted)
      if let value = min, !value.isFinite { min = nil }
      if let value = max, !value.isFinite { max = nil }
      if let value = mean, !value.isFinite { mean = nil }
    }
  }

  public struct Sample: Codable, Equatable, Sendable {
    public var source: String
    public var milliseconds: Double
    public var outputs: [Output]
    public init(source: String, milliseconds: Double, outputs: [Output]) {
      self.source = source
      self.milliseconds = milliseconds
      self.outputs = outputs
    }
  }

  public var model: String
  public var requantization: String
  public var threads: Int
  public var samples: [Sample]

  public init(model: String, requantization: String, threads: Int, samples: [Sample]) {
    self.model = model
    self.requantization = requantization
    self.threads = threads
    self.samples = samples
  }

  /// File name for an output: the name with characters outside `[A-Za-z0-9_.-]` replaced by `_`.
  public static func fileName(for output: String) -> String {
    let safe = String(output.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) ? $0 : "_" })
    return (safe.isEmpty || safe.hasPrefix(".") ? "_" + safe : safe) + ".npy"
  }
}
