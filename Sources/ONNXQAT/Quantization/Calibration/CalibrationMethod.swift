import Foundation

/// How calibration turns the statistics of a tensor into the clipping range it is quantized with.
///
/// - `minmax`: the observed minimum and maximum (or their exponential moving average over
///   samples); nothing is clipped.
/// - `percentile`: the `P`-th percentile of `|x|` (symmetric) or the two tails of `x` cut at
///   `(100 - P) / 2` percent each (asymmetric), read from the histogram.
/// - `entropy`: the threshold whose quantized distribution is closest to the observed one in
///   Kullback-Leibler divergence (the TensorRT method), for the number of levels of the type.
/// - `mse`: the range that minimizes the expected squared error of rounding plus clipping under
///   the histogram, for the type and symmetry asked for.
public enum CalibrationMethod: String, Codable, CaseIterable, Sendable {
  case minmax, percentile, entropy, mse

  /// True when the method reads the histogram (everything but min-max).
  public var needsHistogram: Bool { self != .minmax }
}
