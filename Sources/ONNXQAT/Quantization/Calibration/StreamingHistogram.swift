import Foundation

/// A histogram of a tensor's values over all calibration samples with a fixed number of bins, so
/// that its memory does not depend on how many samples were seen.
///
/// Maths: `B` bins (a multiple of 4) cover `[-T, T]` with width `w = 2T / B`; zero is the edge
/// between bins `B/2 - 1` and `B/2`, and `x` falls in bin `floor((x + T) / w)` (`x = T` in the
/// last). `T` starts at the first nonzero sample's `max |x|` (zeros seen before are held aside
/// and then counted in bin `B/2`). When a later sample has `max |x| > T`, the range doubles
/// until it covers it: bins `2m` and `2m + 1` merge into bin `B/4 + m` of the new histogram, whose
/// edges are every other old edge. Counts stay exact; only the resolution halves.
///
/// Error this introduces: at the end `T < 2 max |x|` over all samples (or `T` is the first
/// sample's maximum), so a value is known to within one bin, `w = 2T / B < 4 max |x| / B`
/// (for B = 4096, the default: under 0.1 % of `max |x|`). Values binned before a growth are known only to
/// within the coarser bin they were merged into, which is the same `w` at the end. Thresholds read
/// from the histogram inherit this error. The result depends on the order of samples (the first
/// sample fixes the grid), which is deterministic for a given source.
public struct StreamingHistogram: Equatable, Sendable {
  /// The number of bins, fixed at creation.
  public let binCount: Int
  /// `T`: the histogram covers `[-T, T]`; 0 before any nonzero value.
  public private(set) var limit: Double = 0
  /// Count per bin; empty until the first nonzero value.
  public private(set) var counts: [Int] = []
  /// Zeros seen before the first nonzero value.
  private var pendingZeros = 0

  public init(binCount: Int) {
    precondition(binCount >= 8 && binCount % 4 == 0, "histogram bins must be a multiple of 4 of at least 8")
    self.binCount = binCount
  }

  /// The number of values counted.
  public var total: Int { counts.reduce(pendingZeros, +) }

  /// The bin width `2T / B` (0 before any nonzero value).
  public var binWidth: Double { 2 * limit / Double(binCount) }

  /// Edge `index` (0...B) of the bins: `-T + index * w`.
  public func edge(_ index: Int) -> Double { -limit + Double(index) * binWidth }

  /// Doubles the range until it covers `maxAbs`, merging pairs of bins.
  public mutating func cover(_ maxAbs: Double) {
    guard maxAbs > 0, maxAbs.isFinite else { return }
    if limit == 0 {
      limit = maxAbs
      counts = Array(repeating: 0, count: binCount)
      counts[binCount / 2] += pendingZeros
      pendingZeros = 0
      return
    }
    while maxAbs > limit {
      var merged = Array(repeating: 0, count: binCount)
      for pair in 0..<(binCount / 2) {
        merged[binCount / 4 + pair] = counts[2 * pair] + counts[2 * pair + 1]
      }
      counts = merged
      limit *= 2
    }
  }

  /// Counts one value; call `cover` with the largest `|x|` of the batch first.
  @inline(__always)
  public mutating func add(_ value: Double) {
    guard limit > 0 else {
      if value == 0 { pendingZeros += 1 }
      return
    }
    let position = (value / limit + 1) * Double(binCount / 2)
    let index = Swift.min(Swift.max(Int(position.rounded(.down)), 0), binCount - 1)
    counts[index] += 1
  }

  /// The histogram of `|x|`: `B/2` bins of width `w` over `[0, T]` (bin `k` adds signed bins
  /// `B/2 + k` and `B/2 - 1 - k`). Before any nonzero value: one bin holding the zeros.
  public var magnitudeCounts: [Int] {
    guard limit > 0 else { return [pendingZeros] }
    let half = binCount / 2
    return (0..<half).map { counts[half + $0] + counts[half - 1 - $0] }
  }
}
