import Foundation

/// The statistics a calibration run gathered, and the clipping range each method chooses from them.
public struct CalibrationResult: Sendable {
  /// Samples run through the model.
  public let samples: Int
  public let options: CalibrationOptions
  /// Statistics per requested tensor name.
  public let statistics: [String: TensorStatistics]

  public init(samples: Int, options: CalibrationOptions, statistics: [String: TensorStatistics]) {
    self.samples = samples
    self.options = options
    self.statistics = statistics
  }

  /// The smallest and largest finite value seen in `tensor` (nil when none was seen).
  public func observedRange(of tensor: String) -> (min: Float, max: Float)? {
    guard let entry = statistics[tensor], entry.count > 0 else { return nil }
    return (entry.min, entry.max)
  }

  /// The clipping range the method chose for quantizing `tensor` to `type` (symmetric or not).
  public func range(of tensor: String, type: QuantType, symmetric: Bool) -> (min: Float, max: Float)? {
    range(of: tensor, type: type, symmetric: symmetric, method: options.method)
  }

  /// The range another method would choose from the same statistics (the histogram methods need
  /// a run with a histogram method; nil otherwise).
  public func range(of tensor: String, type: QuantType, symmetric: Bool, method: CalibrationMethod)
    -> (min: Float, max: Float)?
  {
    guard let entry = statistics[tensor], entry.count > 0 else { return nil }
    switch method {
    case .minmax:
      let low = options.movingAverage ? Float(entry.averageMin) : entry.min
      let high = options.movingAverage ? Float(entry.averageMax) : entry.max
      if symmetric {
        let bound = Swift.max(abs(low), abs(high))
        return (-bound, bound)
      }
      return (low, high)
    case .percentile:
      return PercentileRange.range(entry, percentile: options.percentile, symmetric: symmetric)
    case .entropy:
      return EntropyRange.range(entry, type: type, symmetric: symmetric)
    case .mse:
      return MSERange.range(entry, type: type, symmetric: symmetric)
    }
  }
}
