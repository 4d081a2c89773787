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
    switch tensor.dataType {
    case .float:
      add(UnsafeBufferPointer(start: tensor.pointer(Float.self), count: tensor.count))
    case .string, .undefined, .complex64, .complex128:
      return
    default:
      let values = (0..<tensor.count).map { Float(tensor.element(at: $0)) }
      values.withUnsafeBufferPointer { add($0) }
    }
  }

  /// Adds one sample's values. Eight lanes at a time: the minimum and maximum are exact; the sum
  /// and sum of squares are summed in Double per lane, then the lanes, then the tail.
  public mutating func add(_ values: UnsafeBufferPointer<Float>) {
    var low = Float.infinity
    var high = -Float.infinity
    var finite = 0
    var total = 0.0
    var squares = 0.0
    var index = 0
    if let base = values.baseAddress, values.count >= 8 {
      var lows = SIMD8<Float>(repeating: .infinity)
      var highs = SIMD8<Float>(repeating: -.infinity)
      var totals = SIMD8<Double>()
      var squareSums = SIMD8<Double>()
      var counts = SIMD8<Int32>()
      while index + 8 <= values.count {
        let v = UnsafeRawPointer(base + index).loadUnaligned(as: SIMD8<Float>.self)
        let isFinite = (v - v) .== 0  // inf - inf and NaN - NaN are NaN
        // Compare-and-select (the generic pointwiseMin/Max were calls, not instructions).
        let forLow = v.replacing(with: .infinity, where: .!isFinite)
        let forHigh = v.replacing(with: -.infinity, where: .!isFinite)
        lows.replace(with: forLow, where: forLow .< lows)
        highs.replace(with: forHigh, where: forHigh .> highs)
        let wide = SIMD8<Double>(v.replacing(with: 0, where: .!isFinite))
        totals += wide
        squareSums += wide * wide
        counts &+= SIMD8<Int32>(repeating: 0).replacing(with: 1, where: isFinite)
        index += 8
      }
      low = lows.min()
      high = highs.max()
      total = totals.sum()
      squares = squareSums.sum()
      finite = Int(counts.wrappedSum())
    }
    for value in values[index...] where value.isFinite {
      low = Swift.min(low, value)
      high = Swift.max(high, value)
      finite += 1
      let wide = Double(value)
      total += wide
      squares += wide * wide
    }
    nonFiniteCount += values.count - finite
    guard finite > 0 else { return }
    if samples == 0 {
      averageMin = Double(low)
      averageMax = Double(high)
    } else {
      averageMin += averagingConstant * (Double(low) - averageMin)
      averageMax += averagingConstant * (Double(high) - averageMax)
    }
    samples += 1
    count += finite
    min = Swift.min(min, low)
    max = Swift.max(max, high)
    sum += total
    sumOfSquares += squares
    guard var histogram else { return }
    self.histogram = nil  // keep the counts array uniquely referenced while it is updated
    histogram.cover(Double(Swift.max(abs(low), abs(high))))
    for value in values where value.isFinite { histogram.add(Double(value)) }
    self.histogram = histogram
  }
}
