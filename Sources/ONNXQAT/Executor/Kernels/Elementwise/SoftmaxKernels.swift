import Foundation

/// Softmax `e^(x-max) / sum e^(x-max)`, LogSoftmax `(x-max) - ln(sum e^(x-max))` and Hardmax
/// (1 at the first maximum, 0 elsewhere) on float, double, float16 and bfloat16.
/// Opsets 1-12: the input is seen as 2-D, [prod(shape[..<axis]), prod(shape[axis...])], and each
/// row is normalized (`axis` default 1). Opset 13 on: normalized along the single axis `axis`
/// (default -1).
enum ElementwiseSoftmax {
  enum Mode { case softmax, logSoftmax, hardmax }

  /// Runs `mode` over `[outer, n, inner]` views of the elements; with `threads` > 1 and enough
  /// elements, runs of `outer` go to separate threads (each element's result is the same).
  static func run<T: BinaryFloatingPoint & ElementwiseMathShim>(
    _ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, outer: Int, n: Int, inner: Int, mode: Mode,
    threads: Int = 1
  ) {
    guard n > 0 else { return }
    split(outer: outer, elements: outer * n * inner, threads: threads) { rows in
      run(x, y, rows: rows, n: n, inner: inner, mode: mode)
    }
  }

  /// Calls `body` on all of `0..<outer`, or on its parts on separate threads when `threads` > 1
  /// and the `elements` are enough to repay them.
  static func split(outer: Int, elements: Int, threads: Int, _ body: (Range<Int>) -> Void) {
    let workers = outer >= 2 * threads && elements >= 1 << 15 ? threads : 1
    guard workers > 1 else {
      body(0..<outer)
      return
    }
    ParallelWork.perform(iterations: workers) { worker in
      body((worker * outer / workers)..<((worker + 1) * outer / workers))
    }
  }

  /// The first maximum of the `n` elements `x[base + k * inner]` and its index `k`; NaN (at the
  /// first NaN) when there is one.
  @inline(__always)
  static func maximum<T: BinaryFloatingPoint>(_ x: UnsafeMutablePointer<T>, base: Int, n: Int, inner: Int) -> (
    value: T, index: Int
  ) {
    var maximum = x[base]
    var argmax = 0
    for k in 1..<max(n, 1) where x[base + k * inner] > maximum || (maximum.isNaN == false && x[base + k * inner].isNaN)
    {
      maximum = x[base + k * inner]
      argmax = k
    }
    return (maximum, argmax)
  }

  /// Runs `mode` over the `[n, inner]` slices `rows` of the `[outer, n, inner]` view.
  private static func run<T: BinaryFloatingPoint & ElementwiseMathShim>(
    _ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, rows: Range<Int>, n: Int, inner: Int, mode: Mode
  ) {
    for o in rows {
      for i in 0..<inner {
        let base = o * n * inner + i
        let (maximum, argmax) = Self.maximum(x, base: base, n: n, inner: inner)
        switch mode {
        case .hardmax:
          for k in 0..<n { y[base + k * inner] = k == argmax ? 1 : 0 }
        case .softmax:
          var sum: T = 0
          for k in 0..<n {
            let e = T.exponential(x[base + k * inner] - maximum)
            y[base + k * inner] = e
            sum += e
          }
          for k in 0..<n { y[base + k * inner] /= sum }
        case .logSoftmax:
          var sum: T = 0
          for k in 0..<n { sum += T.exponential(x[base + k * inner] - maximum) }
          let logSum = T.logarithm(sum)
          for k in 0..<n { y[base + k * inner] = x[base + k * inner] - maximum - logSum }
        }
      }
    }
  }

  static func kernel(_ context: KernelContext, mode: Mode) throws -> [HostTensor?] {
    let x = try context.input(0)
    let rank = x.rank
    let legacy = context.opsetVersion < 13
    let axis = try ElementwiseSupport.axis(
      context, context.int("axis", default: legacy ? 1 : -1), rank: max(rank, 1), inclusiveEnd: legacy)
    let outer = x.shape.prefix(axis).reduce(1, *)
    let n = legacy ? x.shape.dropFirst(axis).reduce(1, *) : (rank == 0 ? 1 : x.shape[axis])
    let inner = legacy ? 1 : x.shape.dropFirst(axis + 1).reduce(1, *)
    switch x.dataType {
    case .float:
      let y = HostTensor(uninitialized: .float, shape: x.shape)
      let threads = max(1, context.interpreter.options.threads)
      if mode == .softmax, inner == 1, n > 0 {
        SoftmaxFloatRows.run(x.pointer(Float.self), y.pointer(Float.self), rows: outer, n: n, threads: threads)
      } else {
        run(
          x.pointer(Float.self), y.pointer(Float.self), outer: outer, n: n, inner: inner, mode: mode, threads: threads)
      }
      return [y]
    case .double:
      let y = HostTensor(zeros: .double, shape: x.shape)
      run(x.pointer(Double.self), y.pointer(Double.self), outer: outer, n: n, inner: inner, mode: mode)
      return [y]
    case .float16, .bfloat16:
      let wide = ElementwiseSupport.toFloat(x)
      let y = HostTensor(zeros: .float, shape: x.shape)
      withExtendedLifetime(wide) {
        run(wide.pointer(Float.self), y.pointer(Float.self), outer: outer, n: n, inner: inner, mode: mode)
      }
      return [ElementwiseSupport.fromFloat(y, to: x.dataType)]
    default:
      throw ElementwiseSupport.unsupported(context, x.dataType, expected: "float, double, float16 or bfloat16")
    }
  }

  static func register(_ registry: inout KernelRegistry) {
    registry.register("Softmax") { context in try kernel(context, mode: .softmax) }
    registry.register("LogSoftmax") { context in try kernel(context, mode: .logSoftmax) }
    registry.register("Hardmax") { context in try kernel(context, mode: .hardmax) }
  }
}
