import Foundation

/// What calibration keeps about one tensor across samples, in memory that does not grow with the
/// number of samples: the count, minimum and maximum of its finite values, their sum and sum of
/// squares (for the mean and standard deviation), the exponential moving average of the
/// per-sample minimum and maximum, and (for the histogram methods) a `StreamingHistogram`.
///
/// NaN and infinite values are counted in `nonFiniteCount` and otherwise ignored: a range must be
/// finite to give a scale.
public struct TensorStatistics: Equatable, Sendable {
  public private(set) var count = 0
  public private(set) var nonFiniteCount = 0
  /// Samples in which the tensor had at least one finite value.
  public private(set) var samples = 0
  public private(set) var min = Float.infinity
  public private(set) var max = -Float.infinity
  public private(set) var sum = 0.0
  public private(set) var sumOfSquares = 0.0
  /// `m_k = m_{k-1} + c (min_k - m_{k-1})`, `m_1 = min_1` (likewise for the maximum).
  public private(set) var averageMin = 0.0
  public private(set) var averageMax = 0.0
  public private(set) var histogram: StreamingHistogram?
  let averagingConstant: Double

  /// `histogramBins`: bins of `|x|` (the signed histogram has twice as many); nil for none.
  public init(histogramBins: Int?, averagingConstant: Double = 0.01) {
    histogram = histogramBins.map { StreamingHistogram(binCount: 2 * $0) }
    self.averagingConstant = averagingConstant
  }

  /// The mean of the finite values (nil before any).
  public var mean: Double? { count > 0 ? sum / Double(count) : nil }

  /// The population standard deviation of the finite values (nil before any).
  public var standardDeviation: Double? {
    guard let mean else { return nil }
    return Swift.max(sumOfSquares / Double(count) - mean * mean, 0).squareRoot()
  }

  /// Adds the values of one tensor (one sample's activation).
  public mutating func add(_ tensor: HostTensor) {
    _ = SampleSummary.withFloats(of: tensor) { add($0) }
  }

  /// Adds one sample's values.
  public mutating func add(_ values: UnsafeBufferPointer<Float>) {
    let summary = SampleSummary(values)
    apply(summary)
    guard var histogram, let range = summary.finiteRange else { return }
    self.histogram = nil  // keep the counts array uniquely referenced while it is updated
    histogram.cover(Double(Swift.max(abs(range.low), abs(range.high))))
    for value in values where value.isFinite { histogram.add(Double(value)) }
    self.histogram = histogram
  }

  /// Adds a sample summarized by `SampleSummary` (the histogram, if any, is not updated: callers
  /// with a histogram add the values). `add` is this after the summary, so summaries made apart
  /// (on other threads) and applied in sample order give the same statistics bit for bit.
  public mutating func apply(_ summary: SampleSummary) {
    nonFiniteCount += summary.nonFinite
    guard let range = summary.finiteRange else { return }
    if samples == 0 {
      averageMin = Double(range.low)
      averageMax = Double(range.high)
    } else {
      averageMin += averagingConstant * (Double(range.low) - averageMin)
      averageMax += averagingConstant * (Double(range.high) - averageMax)
    }
    samples += 1
    count += summary.finite
    min = Swift.min(min, range.low)
    max = Swift.max(max, range.high)
    sum += summary.total
    sumOfSquares += summary.squares
  }
}
