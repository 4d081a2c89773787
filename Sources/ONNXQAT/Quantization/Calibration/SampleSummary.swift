import Foundation

/// What one sample of one tensor adds to its `TensorStatistics`: the count of finite and of
/// non-finite values, the finite minimum and maximum, and the sum and sum of squares of the finite
/// values. Computed apart from the statistics (on the thread that ran the sample) and applied in
/// sample order, it gives the statistics `TensorStatistics.add` gives, bit for bit.
public struct SampleSummary: Equatable, Sendable {
  public private(set) var finite = 0
  public private(set) var nonFinite = 0
  /// The smallest and largest finite value; nil when there is none.
  public private(set) var finiteRange: (low: Float, high: Float)?
  public private(set) var total = 0.0
  public private(set) var squares = 0.0

  /// Eight lanes at a time: the minimum and maximum are exact; the sum and sum of squares are
  /// summed in Double per lane, then the lanes, then the tail.
  public init(_ values: UnsafeBufferPointer<Float>) {
    var low = Float.infinity
    var high = -Float.infinity
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
    nonFinite = values.count - finite
    if finite > 0 { finiteRange = (low, high) }
  }

  /// The summary of a tensor's values as Float; nil for element types without a numeric value
  /// (string, complex, undefined).
  public init?(_ tensor: HostTensor) {
    guard let summary = Self.withFloats(of: tensor, { SampleSummary($0) }) else { return nil }
    self = summary
  }

  /// Calls `body` with the tensor's values as Float (float32 directly, other numeric types
  /// converted); nil for element types without a numeric value.
  static func withFloats<Result>(of tensor: HostTensor, _ body: (UnsafeBufferPointer<Float>) -> Result) -> Result? {
    switch tensor.dataType {
    case .float:
      return body(UnsafeBufferPointer(start: tensor.pointer(Float.self), count: tensor.count))
    case .string, .undefined, .complex64, .complex128:
      return nil
    default:
      let values = (0..<tensor.count).map { Float(tensor.element(at: $0)) }
      return values.withUnsafeBufferPointer(body)
    }
  }

  public static func == (a: SampleSummary, b: SampleSummary) -> Bool {
    a.finite == b.finite && a.nonFinite == b.nonFinite && a.finiteRange?.low == b.finiteRange?.low
      && a.finiteRange?.high == b.finiteRange?.high && a.total == b.total && a.squares == b.squares
  }
}
