/// CumSum along the axis given by input 1 (int32 or int64 scalar): `y[k] = sum x[j]` over
/// j <= k (j < k with `exclusive` 1; j >= k, or j > k, with `reverse` 1). float, double,
/// float16/bfloat16 (through float32), and the integer types (wrapping). Opset 11 on.
enum ElementwiseCumSum {
  static func run<T: AdditiveArithmetic>(
    _ x: HostTensor, _ y: HostTensor, _: T.Type, outer: Int, n: Int, inner: Int, exclusive: Bool, reverse: Bool,
    _ add: (T, T) -> T
  ) {
    let source = x.pointer(T.self)
    let target = y.pointer(T.self)
    for o in 0..<outer {
      for i in 0..<inner {
        var sum = T.zero
        for step in 0..<n {
          let k = reverse ? n - 1 - step : step
          let offset = (o * n + k) * inner + i
          if exclusive {
            target[offset] = sum
            sum = add(sum, source[offset])
          } else {
            sum = add(sum, source[offset])
            target[offset] = sum
          }
        }
      }
    }
  }

  static func register(_ registry: inout KernelRegistry) {
    registry.register("CumSum") { context in
      let x = try context.input(0)
      let axes = try ElementwiseSupport.integers(context, context.input(1), name: "input 1 'axis'")
      guard axes.count == 1, let given = axes.first else {
        throw context.failure("input 1 'axis' has \(axes.count) elements; expected a scalar")
      }
      let axis = try ElementwiseSupport.axis(context, given, rank: x.rank)
      let n = x.shape[axis]
      let outer = x.shape.prefix(axis).reduce(1, *)
      let inner = x.shape.dropFirst(axis + 1).reduce(1, *)
      let exclusive = context.int("exclusive", default: 0) != 0
      let reverse = context.int("reverse", default: 0) != 0
      switch x.dataType {
      case .float:
        let y = HostTensor(zeros: .float, shape: x.shape)
        run(x, y, Float.self, outer: outer, n: n, inner: inner, exclusive: exclusive, reverse: reverse, +)
        return [y]
      case .double:
        let y = HostTensor(zeros: .double, shape: x.shape)
        run(x, y, Double.self, outer: outer, n: n, inner: inner, exclusive: exclusive, reverse: reverse, +)
        return [y]
      case .float16, .bfloat16:
        let wide = ElementwiseSupport.toFloat(x)
        let y = HostTensor(zeros: .float, shape: x.shape)
        run(wide, y, Float.self, outer: outer, n: n, inner: inner, exclusive: exclusive, reverse: reverse, +)
        return [ElementwiseSupport.fromFloat(y, to: x.dataType)]
      case .uint64:
        let y = HostTensor(zeros: .uint64, shape: x.shape)
        run(x, y, UInt64.self, outer: outer, n: n, inner: inner, exclusive: exclusive, reverse: reverse, &+)
        return [y]
      default:
        guard ElementwiseSupport.integerTypes.contains(x.dataType) else {
          throw ElementwiseSupport.unsupported(context, x.dataType, expected: "a numeric type")
        }
        let wide = ElementwiseSupport.widen(x)
        let y = HostTensor(zeros: .int64, shape: x.shape)
        run(wide, y, Int64.self, outer: outer, n: n, inner: inner, exclusive: exclusive, reverse: reverse, &+)
        return [ElementwiseSupport.narrow(y, to: x.dataType)]
      }
    }
  }
}
