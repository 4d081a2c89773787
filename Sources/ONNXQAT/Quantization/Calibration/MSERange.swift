import Foundation

/// The clipping range that minimizes the expected squared quantization error (rounding plus
/// clipping) of a tensor under its histogram.
///
/// Maths: a range gives a scale `s` and zero point `z` exactly as `QuantParameters.fromRange`
/// computes them; quantize-dequantize maps `x` to `clamp(s round(x / s), lo, hi)` with
/// `lo = s (qmin - z)`, `hi = s (qmax - z)` (the grid is the multiples of `s`, since the zero
/// point is an integer). With the values of a bin `[l, r)` taken as uniform, the bin's expected
/// error is `n / (r - l)` times the integral of the squared error over the bin:
/// - inside `[lo - s/2, hi + s/2]` the error is the sawtooth `e(x) = x - s round(x / s)`, whose
///   integral from `-s/2` to `x` is `H(x) = k s^3 / 12 + (r^3 + s^3 / 8) / 3` with
///   `k = floor(x / s + 1/2)`, `r = x - k s`;
/// - below and above, the clipping error `(x - lo)^2` and `(x - hi)^2`.
/// The first and last nonempty bins are trimmed to the observed `[min, max]`.
/// - symmetric: candidates `t` are the edges `k w` of the `|x|` histogram up to `max |x|` (and
///   `max |x|` itself), range `[-t, t]`;
/// - asymmetric: candidate lower ends are the edges in `(min, 0]` and `min`, upper ends the edges
///   in `[0, max)` and `max`.
/// The search (`search(sizes:error:)`) evaluates a coarse grid of candidates (about 32 for a
/// symmetric range, 16 x 16 for an asymmetric one), then refines from the best by a pattern
/// search with halving steps down to single bins: some 50 or 300 evaluations instead of thousands
/// or millions. The error as a function of the range is smooth; a local minimum finer than the
/// coarse grid could be missed.
///
/// Skip cases (nil): 1. no finite value was seen; 2. no histogram was collected.
public enum MSERange {
  public static func range(_ statistics: TensorStatistics, type: QuantType, symmetric: Bool)
    -> (min: Float, max: Float)?
  {
    guard statistics.count > 0 else { return nil }  // skip case 1
    guard let histogram = statistics.histogram else { return nil }  // skip case 2
    guard histogram.limit > 0 else { return (statistics.min, statistics.max) }
    let bins = occupiedBins(histogram, min: Double(statistics.min), max: Double(statistics.max))
    let width = histogram.binWidth
    if symmetric {
      let maxAbs = Double(Swift.max(abs(statistics.min), abs(statistics.max)))
      var candidates: [Double] = []
      var index = 1
      while Double(index) * width < maxAbs {
        candidates.append(Double(index) * width)
        index += 1
      }
      candidates.append(maxAbs)
      let best = search(sizes: [candidates.count, 1]) { pick in
        expectedError(bins, low: -candidates[pick[0]], high: candidates[pick[0]], type: type, symmetric: true)
      }
      return (-Float(candidates[best[0]]), Float(candidates[best[0]]))
    }
    let low = Double(statistics.min)
    let high = Double(statistics.max)
    var lows: [Double] = [low]
    var highs: [Double] = []
    for index in 0...histogram.binCount {
      let edge = histogram.edge(index)
      if edge > low && edge <= 0 { lows.append(edge) }
      if edge >= 0 && edge < high { highs.append(edge) }
    }
    highs.append(high)
    if low >= 0 { lows = [low] }
    if high <= 0 { highs = [high] }
    let best = search(sizes: [lows.count, highs.count]) { pick in
      expectedError(bins, low: lows[pick[0]], high: highs[pick[1]], type: type, symmetric: false)
    }
    return (Float(lows[best[0]]), Float(highs[best[1]]))
  }

  /// The index pair (one index per axis of `sizes`) with the smallest `error`: every `m`-th index
  /// of each axis first (about 32 indices for one axis, 16 an axis for two, the last index
  /// included), then a pattern search from
  /// the best of them that tries one step either way along each axis, moves while that helps,
  /// and halves the steps until they are 1. Each pair is evaluated at most once; the first of
  /// equal errors wins.
  static func search(sizes: [Int], error: ([Int]) -> Double) -> [Int] {
    var seen: [[Int]: Double] = [:]
    func evaluate(_ pick: [Int]) -> Double {
      if let known = seen[pick] { return known }
      let value = error(pick)
      seen[pick] = value
      return value
    }
    let coarse = sizes.contains(1) ? 32 : 16
    var steps = sizes.map { Swift.max(1, ($0 + coarse - 1) / coarse) }
    func grid(_ axis: Int) -> [Int] {
      var indices = Array(stride(from: 0, to: sizes[axis], by: steps[axis]))
      if indices.last != sizes[axis] - 1 { indices.append(sizes[axis] - 1) }
      return indices
    }
    var best = sizes.map { $0 - 1 }
    var bestError = Double.infinity
    for first in grid(0) {
      for second in grid(1) {
        let value = evaluate([first, second])
        if value < bestError { (bestError, best) = (value, [first, second]) }
      }
    }
    while true {
      var moved = false
      for axis in 0..<sizes.count {
        for direction in [-1, 1] {
          var pick = best
          pick[axis] += direction * steps[axis]
          guard pick[axis] >= 0, pick[axis] < sizes[axis] else { continue }
          let value = evaluate(pick)
          if value < bestError {
            (bestError, best) = (value, pick)
            moved = true
          }
        }
      }
      if moved { continue }
      if steps.allSatisfy({ $0 == 1 }) { break }
      steps = steps.map { Swift.max(1, $0 / 2) }
    }
    return best
  }

  /// A nonempty bin: its extent (trimmed to the observed range) and count.
  struct Bin {
    var lower: Double
    var upper: Double
    var count: Double
  }

  static func occupiedBins(_ histogram: StreamingHistogram, min: Double, max: Double) -> [Bin] {
    histogram.counts.indices.compactMap { index in
      let count = histogram.counts[index]
      guard count > 0 else { return nil }
      let lower = Swift.min(Swift.max(histogram.edge(index), min), max)
      let upper = Swift.max(Swift.min(histogram.edge(index + 1), max), min)
      return Bin(lower: lower, upper: upper, count: Double(count))
    }
  }

  /// The expected squared error summed over `bins` for the range `[low, high]`; infinity when the
  /// range gives no usable scale.
  static func expectedError(_ bins: [Bin], low: Double, high: Double, type: QuantType, symmetric: Bool) -> Double {
    let (scale32, zeroPoint, empty) = QuantParameters.scaleAndZeroPoint(
      min: Float(low), max: Float(high), type: type, symmetric: symmetric)
    guard !empty else { return .infinity }
    let s = Double(scale32)
    let lo = s * Double(Int64(type.qmin) - Int64(zeroPoint))
    let hi = s * Double(Int64(type.qmax) - Int64(zeroPoint))
    func sawtooth(_ x: Double) -> Double {
      let k = (x / s + 0.5).rounded(.down)
      let r = x - k * s
      return k * s * s * s / 12 + (r * r * r + s * s * s / 8) / 3
    }
    func squaredDistance(_ a: Double, _ b: Double, from c: Double) -> Double {
      let upper = b - c
      let lower = a - c
      return (upper * upper * upper - lower * lower * lower) / 3
    }
    func pointError(_ x: Double) -> Double {
      if x < lo - s / 2 { return (x - lo) * (x - lo) }
      if x > hi + s / 2 { return (x - hi) * (x - hi) }
      let e = x - s * (x / s).rounded(.toNearestOrEven)
      return e * e
    }
    let roundFrom = lo - s / 2
    let roundTo = hi + s / 2
    var total = 0.0
    for bin in bins {
      let a = bin.lower
      let b = bin.upper
      guard b > a else {
        total += bin.count * pointError(a)
        continue
      }
      var integral = 0.0
      if a < roundFrom { integral += squaredDistance(a, Swift.min(b, roundFrom), from: lo) }
      let middleLow = Swift.max(a, roundFrom)
      let middleHigh = Swift.min(b, roundTo)
      if middleHigh > middleLow { integral += sawtooth(middleHigh) - sawtooth(middleLow) }
      if b > roundTo { integral += squaredDistance(Swift.max(a, roundTo), b, from: hi) }
      total += bin.count * integral / (b - a)
    }
    return total
  }
}
