import Foundation

/// The entropy (KL-divergence) clipping range of a tensor, as TensorRT calibrates: the threshold
/// whose quantized histogram loses the least information.
///
/// Maths: take a histogram `h` of `n` bins of width `w` starting at 0 (the histogram of `|x|`
/// for symmetric ranges) and `L` quantization levels. For each candidate `i` in `L...n` bins:
/// - the reference `p` is `h[0..<i]` with everything beyond added to its last bin (clipping);
/// - the candidate `q` splits `h[0..<i]` into `L` groups of consecutive bins (group `g` is bins
///   `g i / L ..< (g + 1) i / L`, integer division) and spreads each group's total evenly over
///   the bins of the group where `p` is nonzero;
/// - `KL(p || q) = sum P_k log(P_k / Q_k)` over `P_k > 0`, with `P`, `Q` normalized to sum 1 and a
///   `Q_k` of 0 replaced by 1e-9 (a bin the quantized distribution cannot reach).
/// The threshold is `i w` for the `i` with the smallest divergence (the first on ties). Candidates
/// stop at the last nonempty bin: larger thresholds clip nothing and only coarsen the grid.
/// - symmetric: `h` is the `|x|` histogram and `L = (qmax - qmin + 1) / 2` (128 for int8), giving
///   `[-t, t]`;
/// - asymmetric, all values `>= 0` (or all `<= 0`): `h` is that side of the histogram and
///   `L = qmax - qmin + 1`, giving `[min, t]` (or `[-t, max]`);
/// - asymmetric, both signs: windows `[-t, t]` centred on zero over the signed histogram, clipped on
///   both sides and split into `qmax - qmin + 1` groups (as onnxruntime's EntropyCalibrater),
///   then clipped to `[min, max]`.
/// Fewer bins than levels: nothing to clip, the range is the observed one. Candidates start at `L`
/// bins (below that the histogram is coarser than the quantization grid, so there is no
/// quantization loss to weigh against clipping): the threshold is at least `L w`, for int8
/// symmetric with the default 2048 bins of `|x|` a sixteenth of `T` (under an eighth of
/// `max |x|`); more bins lower this floor.
///
/// Skip cases (nil): 1. no finite value was seen; 2. no histogram was collected.
public enum EntropyRange {
  public static func range(_ statistics: TensorStatistics, type: QuantType, symmetric: Bool)
    -> (min: Float, max: Float)?
  {
    guard statistics.count > 0 else { return nil }  // skip case 1
    guard let histogram = statistics.histogram else { return nil }  // skip case 2
    guard histogram.limit > 0 else { return (statistics.min, statistics.max) }
    let levels = Int(Swift.min(Int64(type.qmax) - Int64(type.qmin) + 1, 1 << 24))
    let width = histogram.binWidth
    let half = histogram.binCount / 2
    if symmetric {
      let maxAbs = Swift.max(abs(statistics.min), abs(statistics.max))
      let bins = bestThreshold(histogram.magnitudeCounts, levels: Swift.max(levels / 2, 1))
      let t = Swift.min(Float(Double(bins) * width), maxAbs)
      return (-t, t)
    }
    if statistics.min >= 0 {
      let bins = bestThreshold(Array(histogram.counts[half...]), levels: levels)
      return (statistics.min, Swift.min(Float(Double(bins) * width), statistics.max))
    }
    if statistics.max <= 0 {
      let bins = bestThreshold(Array(histogram.counts[..<half].reversed()), levels: levels)
      return (Swift.max(-Float(Double(bins) * width), statistics.min), statistics.max)
    }
    let bins = bestCentredThreshold(histogram.counts, levels: levels)
    let t = Float(Double(bins) * width)
    return (Swift.max(-t, statistics.min), Swift.min(t, statistics.max))
  }

  /// The number of bins `i` from 0 whose clipping minimizes the divergence.
  static func bestThreshold(_ counts: [Int], levels: Int) -> Int {
    guard let last = counts.lastIndex(where: { $0 > 0 }) else { return counts.count }
    let used = last + 1
    if used <= levels { return used }
    let sums = PrefixSums(counts)
    var best = used
    var bestDivergence = Double.infinity
    for candidate in levels...used {
      let outliers = sums.mass(candidate, counts.count)
      let divergence = sums.divergence(lower: 0, upper: candidate, left: 0, right: outliers, levels: levels)
      if divergence < bestDivergence {
        bestDivergence = divergence
        best = candidate
      }
    }
    return best
  }

  /// The half-width `i` (in bins) of the window `[B/2 - i, B/2 + i)` that minimizes the divergence.
  static func bestCentredThreshold(_ counts: [Int], levels: Int) -> Int {
    let half = counts.count / 2
    let first = counts.firstIndex(where: { $0 > 0 }) ?? half
    let last = counts.lastIndex(where: { $0 > 0 }) ?? half
    let reach = Swift.max(half - first, last + 1 - half)
    let start = Swift.max((levels + 1) / 2, 1)
    if reach <= start { return reach }
    let sums = PrefixSums(counts)
    var best = reach
    var bestDivergence = Double.infinity
    for candidate in start...reach {
      let lower = half - candidate
      let upper = half + candidate
      let divergence = sums.divergence(
        lower: lower, upper: upper, left: sums.mass(0, lower), right: sums.mass(upper, counts.count), levels: levels)
      if divergence < bestDivergence {
        bestDivergence = divergence
        best = candidate
      }
    }
    return best
  }

  /// The value a `Q_k` of 0 is replaced with where `P_k > 0`.
  static let missingQ = 1e-9

  /// Running sums of the counts `h`, of `[h > 0]` and of `h log h`, so that the divergence of a
  /// window costs one step per quantization group instead of one per bin:
  /// `KL = (sum_k p_k log p_k - sum_g P_g log(share_g / N_q)) / N_p - log N_p`, where `P_g` is the
  /// group's reference mass, `share_g` its window mass over its bins with `p_k > 0`, `N_p` the
  /// reference total and `N_q` the window total.
  struct PrefixSums {
    let counts: [Double]
    private var total: [Double]
    private var nonzero: [Int]
    private var entropy: [Double]

    init(_ counts: [Int]) {
      self.counts = counts.map(Double.init)
      total = [0]
      nonzero = [0]
      entropy = [0]
      for count in self.counts {
        total.append((total.last ?? 0) + count)
        nonzero.append((nonzero.last ?? 0) + (count > 0 ? 1 : 0))
        entropy.append((entropy.last ?? 0) + Self.plogp(count))
      }
    }

    static func plogp(_ value: Double) -> Double { value > 0 ? value * Foundation.log(value) : 0 }

    /// The total count of bins `lower..<upper`.
    func mass(_ lower: Int, _ upper: Int) -> Double { total[upper] - total[lower] }

    /// `KL(p || q)` for the window `lower..<upper` with `left` and `right` clipped counts added to
    /// its first and last bins (see `EntropyRange.divergence` for the plain definition).
    func divergence(lower: Int, upper: Int, left: Double, right: Double, levels: Int) -> Double {
      let size = upper - lower
      let groups = Swift.min(levels, size)
      let windowTotal = mass(lower, upper)
      let referenceTotal = windowTotal + left + right
      guard referenceTotal > 0, size > 0 else { return .infinity }
      // The reference differs from the window only in its first and last bins.
      var edges: [(index: Int, added: Double)] = [(lower, left)]
      if upper - 1 == lower { edges[0].added += right } else { edges.append((upper - 1, right)) }
      var sumPLogP = entropy[upper] - entropy[lower]
      for edge in edges where edge.added > 0 {
        sumPLogP += Self.plogp(counts[edge.index] + edge.added) - Self.plogp(counts[edge.index])
      }
      var weighted = 0.0
      for group in 0..<groups {
        let first = lower + group * size / groups
        let end = lower + (group + 1) * size / groups
        let groupMass = mass(first, end)
        var reference = groupMass
        var occupied = nonzero[end] - nonzero[first]
        for edge in edges where edge.added > 0 && edge.index >= first && edge.index < end {
          reference += edge.added
          if counts[edge.index] == 0 { occupied += 1 }
        }
        guard occupied > 0, reference > 0 else { continue }
        let share = groupMass / Double(occupied)
        let logQ =
          share > 0 && windowTotal > 0 ? Foundation.log(share / windowTotal) : Foundation.log(EntropyRange.missingQ)
        weighted += reference * logQ
      }
      return (sumPLogP - weighted) / referenceTotal - Foundation.log(referenceTotal)
    }
  }

  /// `KL(p || q)` where `q` is `window` quantized to `levels` groups and expanded over the bins
  /// where `reference` is nonzero: the definition, one step per bin (`PrefixSums` computes the
  /// same faster; tests compare the two).
  static func divergence(reference: [Double], window: [Double], levels: Int) -> Double {
    let size = window.count
    let groups = Swift.min(levels, size)
    var expanded = Array(repeating: 0.0, count: size)
    for group in 0..<groups {
      let lower = group * size / groups
      let upper = (group + 1) * size / groups
      var mass = 0.0
      var nonzero = 0
      for index in lower..<upper {
        mass += window[index]
        if reference[index] > 0 { nonzero += 1 }
      }
      guard nonzero > 0 else { continue }
      let share = mass / Double(nonzero)
      for index in lower..<upper where reference[index] > 0 { expanded[index] = share }
    }
    let referenceTotal = reference.reduce(0, +)
    let expandedTotal = expanded.reduce(0, +)
    guard referenceTotal > 0 else { return .infinity }
    var result = 0.0
    for index in 0..<size where reference[index] > 0 {
      let p = reference[index] / referenceTotal
      let q = expandedTotal > 0 && expanded[index] > 0 ? expanded[index] / expandedTotal : missingQ
      result += p * Foundation.log(p / q)
    }
    return result
  }
}
