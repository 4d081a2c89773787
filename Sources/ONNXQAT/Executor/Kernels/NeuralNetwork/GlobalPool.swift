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
    for plane in 0..<planes {
      let values = px + plane * spatial
      switch kind {
      case .average:
        var sum: Float = 0
        for i in 0..<spatial { sum += values[i] }
        py[plane] = spatial > 0 ? sum / Float(spatial) : 0
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
