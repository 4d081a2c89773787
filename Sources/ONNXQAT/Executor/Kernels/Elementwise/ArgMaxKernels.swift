/// ArgMax and ArgMin: the int64 index of the largest (smallest) element along `axis` (default
/// 0), the first one on ties, or the last with `select_last_index` 1 (opset 12 on). `keepdims`
/// (default 1) keeps the axis as size 1. NaN counts as larger (ArgMax) or smaller (ArgMin)
/// than any number, so the first NaN wins as in NumPy.
enum ElementwiseArgMax {
  static func run<T: ElementwiseCastSource & Comparable>(
    _ x: HostTensor, _: T.Type, outer: Int, n: Int, inner: Int, largest: Bool, last: Bool, into result: HostTensor
  ) {
    let source = x.pointer(T.self)
    let target = result.pointer(Int64.self)
    for o in 0..<outer {
      for i in 0..<inner {
        let base = o * n * inner + i
        var best = source[base]
        var bestIndex = 0
        var bestIsNaN = best.castDouble.isNaN
        for k in 1..<max(n, 1) {
          let value = source[base + k * inner]
          if bestIsNaN { break }
          if value.castDouble.isNaN {
            best = value
            bestIndex = k
            bestIsNaN = true
            continue
          }
          let better = largest ? (last ? value >= best : value > best) : (last ? value <= best : value < best)
          if better {
            best = value
            bestIndex = k
          }
        }
        target[o * inner + i] = Int64(bestIndex)
      }
    }
  }

  static func kernel(_ context: KernelContext, largest: Bool) throws -> [HostTensor?] {
    let x = try context.input(0)
    let axis = try ElementwiseSupport.axis(context, context.int("axis", default: 0), rank: x.rank)
    let n = x.shape[axis]
    guard n > 0 else { throw context.failure("axis \(axis) of \(x.typeDescription) is empty; expected elements") }
    let outer = x.shape.prefix(axis).reduce(1, *)
    let inner = x.shape.dropFirst(axis + 1).reduce(1, *)
    var shape = x.shape
    if context.int("keepdims", default: 1) != 0 { shape[axis] = 1 } else { shape.remove(at: axis) }
    let result = HostTensor(zeros: .int64, shape: shape)
    let last = context.int("select_last_index", default: 0) != 0
    switch x.dataType {
    case .float: run(x, Float.self, outer: outer, n: n, inner: inner, largest: largest, last: last, into: result)
    case .double: run(x, Double.self, outer: outer, n: n, inner: inner, largest: largest, last: last, into: result)
    case .uint64: run(x, UInt64.self, outer: outer, n: n, inner: inner, largest: largest, last: last, into: result)
    case .float16, .bfloat16:
      let wide = ElementwiseSupport.toFloat(x)
      run(wide, Float.self, outer: outer, n: n, inner: inner, largest: largest, last: last, into: result)
    default:
      guard ElementwiseSupport.integerTypes.contains(x.dataType) else {
        throw ElementwiseSupport.unsupported(context, x.dataType, expected: "a numeric type")
      }
      let wide = ElementwiseSupport.widen(x)
      run(wide, Int64.self, outer: outer, n: n, inner: inner, largest: largest, last: last, into: result)
    }
    return [result]
  }

  static func register(_ registry: inout KernelRegistry) {
    registry.register("ArgMax") { try kernel($0, largest: true) }
    registry.register("ArgMin") { try kernel($0, largest: false) }
  }
}
