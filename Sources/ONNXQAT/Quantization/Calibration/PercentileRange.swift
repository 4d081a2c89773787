import Foundation

/// The percentile clipping range of a tensor, read from its histogram.
///
/// Maths: with `N` values and the cumulative count `C`, the `q`-quantile is the `x` where
/// `C(x) = q N`, interpolated linearly inside the bin that crosses `q N` (values assumed uniform in
/// a bin), so it is exact to within one bin width `w`.
/// - symmetric: `t` = the `P / 100` quantile of `|x|`, range `[-t, t]`;
/// - asymmetric: the `(100 - P) / 200` and `1 - (100 - P) / 200` quantiles of `x` (the tail cut is
///   split evenly between the two sides).
/// The result never goes beyond the observed range (`[-max |x|, max |x|]`, or `[min, max]`).
///
/// Skip cases (nil): 1. no finite value was seen; 2. no histogram was collected.
public enum PercentileRange {
  public static func range(_ statistics: TensorStatistics, percentile: Double, symmetric: Bool)
    -> (min: Float, max: Float)?
  {
    guard statistics.count > 0 else { return nil }  // skip case 1
    guard let histogram = statistics.histogram else { return nil }  // skip case 2
    let fraction = Swift.min(Swift.max(percentile / 100, 0), 1)
    if symmetric {
      let maxAbs = Double(Swift.max(abs(statistics.min), abs(statistics.max)))
      let counts = histogram.magnitudeCounts
      let t = quantile(counts, start: 0, width: histogram.binWidth, fraction: fraction)
      let bound = Float(Swift.min(t, maxAbs))
      return (-bound, bound)
    }
    let tail = (1 - fraction) / 2
    let low = quantile(histogram.counts, start: -histogram.limit, width: histogram.binWidth, fraction: tail)
    let high = quantile(histogram.counts, start: -histogram.limit, width: histogram.binWidth, fraction: 1 - tail)
    guard histogram.limit > 0 else { return (statistics.min, statistics.max) }
    return (
      Swift.max(Float(low), statistics.min), Swift.min(Float(high), statistics.max)
    )
  }

  /// The `x` where the cumulative count of `counts` (bins of `width` from `start`) reaches
  /// `fraction` of the total, interpolated inside the bin.
  static func quantile(_ counts: [Int], start: Double, width: Double, fraction: Double) -> Double {
    let total = Double(counts.reduce(0, +))
    guard total > 0 else { return start }
    let target = fraction * total
    var below = 0.0
    for (index, count) in counts.enumerated() where count > 0 {
      let through = below + Double(count)
      if through >= target {
        let inside = Swift.max(target - below, 0) / Double(count)
        return start + (Double(index) + inside) * width
      }
      below = through
    }
    return start + Double(counts.count) * width
  }
}
