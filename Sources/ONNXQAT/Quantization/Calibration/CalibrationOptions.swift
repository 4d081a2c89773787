import Foundation

/// The settings of one calibration run: the method, its parameters, and how many samples to read.
public struct CalibrationOptions: Sendable {
  public var method: CalibrationMethod = .minmax
  /// The percentile kept by `percentile` (`--percentile P`), in (0, 100].
  public var percentile: Double = 99.999
  /// `minmax` only: an exponential moving average of the per-sample minimum and maximum,
  /// `m_k = m_{k-1} + c (x_k - m_{k-1})` with `m_1 = x_1` and `c = averagingConstant`.
  public var movingAverage = false
  /// The constant `c` of the moving average, in [0, 1].
  public var averagingConstant = 0.01
  /// Bins of each tensor's histogram of `|x|` (the signed histogram behind it has twice as many,
  /// `histogramBins` on each side of zero): fixed, so memory per tensor (16 bytes a bin) does not
  /// depend on the number of samples. Must be even and at least 4.
  public var histogramBins = 2048
  /// Read at most this many samples (`--calib-samples N`); nil reads the whole source.
  public var maxSamples: Int?
  /// Options of the interpreter that runs each sample.
  public var executionOptions = ExecutionOptions()

  public init() {}

  /// Checks the values, naming the one that is out of range.
  public func validate() throws {
    guard percentile > 0, percentile <= 100 else {
      throw ONNXQATError.badArgument("calibration percentile \(percentile) is not in (0, 100]")
    }
    guard averagingConstant >= 0, averagingConstant <= 1 else {
      throw ONNXQATError.badArgument("calibration averaging constant \(averagingConstant) is not in [0, 1]")
    }
    guard histogramBins >= 4, histogramBins % 2 == 0 else {
      throw ONNXQATError.badArgument("calibration histogram bins \(histogramBins) is not an even number of at least 4")
    }
    if let maxSamples, maxSamples < 1 {
      throw ONNXQATError.badArgument("calibration sample limit \(maxSamples) is not positive")
    }
  }
}
