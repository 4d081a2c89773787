import Foundation

/// GlobalAveragePool, GlobalMaxPool and GlobalLpPool (opsets 1-22): one value per (n, c) over
/// all spatial positions, `Y[n, c, 1, ...] = mean / max / (sum |x|^p)^(1/p) of X[n, c, ...]`
/// (`p` default 2). Float32 (double, float16 and bfloat16 through float32); GlobalMaxPool also
/// on int8 and uint8.
enum GlobalPoolKernel {
  enum Kind { case average, max, lp }

  static func average(_ context: KernelContext) throws -> [HostTensor?] { try run(context, .average) }
  static func max(_ context: KernelContext) throws -> [HostTensor?] { try run(context, .max) }
  static func lp(_ context: KernelContext) throws -> [HostTensor?] { try run(context, .lp) }

  static func run(_ context: KernelContext, _ kind: Kind) throws -> [HostTensor?] {
    let raw = try context.input(0)
    guard raw.rank >= 2 else {
      throw context.failure("input 0 'X' has shape \(raw.shape); expected [N, C, D1, ...]")
    }
    let planes = raw.shape[0] * raw.shape[1]
    let spatial = raw.shape[2...].reduce(1, *)
    let outputShape = Array(raw.shape[0..<2]) + Array(repeating: 1, count: raw.rank - 2)
    if kind == .max && (raw.dataType == .int8 || raw.dataType == .uint8) {
      let result = HostTensor(zeros: raw.dataType, shape: outputShape)
      if raw.dataType == .int8 {
        integerMax(raw.pointer(Int8.self), result.pointer(Int8.self), planes, spatial)
      } else {
        integerMax(raw.pointer(UInt8.self), result.pointer(UInt8.self), planes, spatial)
      }
      return [result]
    }
    let x = try NeuralNetworkFloat.input(raw, "input 0 'X'", context)
    let result = HostTensor(zeros: .float, shape: outputShape)
    let px = x.pointer(Float.self)
    let py = result.pointer(Float.self)
    // p is a float attribute at opset 1, an int from opset 2.
    let p = context.float("p") ?? Float(context.int("p", default: 2))
    if kind == .average {
      averages(UnsafePointer(px), py, planes: planes, spatial: spatial)
      return [NeuralNetworkFloat.output(result, as: raw.dataType)]
    }
    for plane in 0..<planes {
      let values = px + plane * spatial
      switch kind {
      case .average:
        py[plane] = mean(values, spatial)
      case .max:
        var best = -Float.infinity
        for i in 0..<spatial where values[i] > best || values[i].isNaN { best = values[i] }
        py[plane] = best
      case .lp:
        var sum: Float = 0
        for i in 0..<spatial { sum += pow(abs(values[i]), p) }
        py[plane] = pow(sum, 1 / p)
      }
    }
    return [NeuralNetworkFloat.output(result, as: raw.dataType)]
  }

  /// The mean of `count` values: their sum from 0 in index order, one rounded addition at a
  /// time, divided by the count (0 when there are none).
  @inline(__always)
  private static func mean(_ values: UnsafePointer<Float>, _ count: Int) -> Float {
    var sum: Float = 0
    for i in 0..<count { sum += values[i] }
    return count > 0 ? sum / Float(count) : 0
  }

  /// y[plane] = `mean` of plane `plane` of x, eight planes side by side: each plane's sum is
  /// still one chain of additions in index order (the bits of `mean`), but eight independent
  /// chains overlap in the pipeline where one waits on the latency of every addition.
  private static func averages(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, planes: Int, spatial: Int
  ) {
    var plane = 0
    while plane + 8 <= planes {
      let base = x + plane * spatial
      var sums = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
      for i in 0..<spatial {
        sums.0 += base[i]
        sums.1 += base[spatial + i]
        sums.2 += base[2 * spatial + i]
        sums.3 += base[3 * spatial + i]
        sums.4 += base[4 * spatial + i]
        sums.5 += base[5 * spatial + i]
        sums.6 += base[6 * spatial + i]
        sums.7 += base[7 * spatial + i]
      }
      let count = Float(spatial)
      withUnsafeBytes(of: sums) { bytes in
        for offset in 0..<8 {
          y[plane + offset] = spatial > 0 ? bytes.load(fromByteOffset: 4 * offset, as: Float.self) / count : 0
        }
      }
      plane += 8
    }
    while plane < planes {
      y[plane] = mean(x + plane * spatial, spatial)
      plane += 1
    }
  }

  private static func integerMax<T: FixedWidthInteger>(
    _ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ planes: Int, _ spatial: Int
  ) {
    for plane in 0..<planes {
      var best = T.min
      for i in 0..<spatial { best = Swift.max(best, x[plane * spatial + i]) }
      y[plane] = best
    }
  }
}
