import Foundation

/// MeanVarianceNormalization (opsets 9, 13): over `axes` (default [0, 2, 3]), as the op's
/// function body defines it,
///
///     Y = (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9)
///
/// Means accumulate in double; float32 otherwise (double, float16 and bfloat16 converted).
enum MeanVarianceNormalizationKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let raw = try context.input(0)
    let x = try NeuralNetworkFloat.input(context, 0, "X")
    let rank = x.rank
    let axes = Set((context.ints("axes") ?? [0, 2, 3]).map { $0 < 0 ? $0 + rank : $0 })
    guard axes.allSatisfy({ $0 >= 0 && $0 < rank }) else {
      throw context.failure("axes \(context.ints("axes") ?? [0, 2, 3]) are out of range for X \(x.shape)")
    }
    // Statistics shape: X's shape with the reduced axes set to 1.
    let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    let groups = kept.reduce(1, *)
    let count = Double(max(x.count / max(groups, 1), 1))
    var sums = [Double](repeating: 0, count: groups)
    var squares = [Double](repeating: 0, count: groups)
    let px = x.pointer(Float.self)
    Broadcast.forEach(x.shape, operands: [kept]) { index, offsets in
      let value = Double(px[index])
      sums[offsets[0]] += value
      squares[offsets[0]] += value * value
    }
    var means = [Float](repeating: 0, count: groups)
    var deviations = [Float](repeating: 0, count: groups)
    for g in 0..<groups {
      let mean = sums[g] / count
      means[g] = Float(mean)
      deviations[g] = Float(max(0, squares[g] / count - mean * mean).squareRoot() + 1e-9)
    }
    let result = HostTensor(zeros: .float, shape: x.shape)
    let py = result.pointer(Float.self)
    Broadcast.forEach(x.shape, operands: [kept]) { index, offsets in
      py[index] = (px[index] - means[offsets[0]]) / deviations[offsets[0]]
    }
    return [NeuralNetworkFloat.output(result, as: raw.dataType)]
  }
}
