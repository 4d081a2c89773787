import Foundation

/// Where a calibration run is: samples done, the total when the source knows it, seconds spent,
/// and an estimate of the seconds left (the mean time per sample so far times the samples left).
public struct CalibrationProgress: Sendable {
  public var done: Int
  public var total: Int?
  public var elapsed: Double
  public var estimatedRemaining: Double?

  public init(done: Int, total: Int?, elapsed: Double, estimatedRemaining: Double? = nil) {
    self.done = done
    self.total = total
    self.elapsed = elapsed
    self.estimatedRemaining = estimatedRemaining
  }

  /// The progress after `done` samples in `elapsed` seconds, with the estimate filled in.
  static func after(done: Int, total: Int?, elapsed: Double) -> CalibrationProgress {
    var remaining: Double?
    if let total, done > 0 { remaining = elapsed / Double(done) * Double(max(total - done, 0)) }
    return CalibrationProgress(done: done, total: total, elapsed: elapsed, estimatedRemaining: remaining)
  }
}
