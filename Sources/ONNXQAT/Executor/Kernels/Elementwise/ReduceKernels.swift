import Foundation

/// The Reduce ops over `axes` (all axes when absent or empty, unless `noop_with_empty_axes` is
/// 1, which returns the input unchanged; `keepdims` default 1 keeps reduced axes as size 1):
/// ReduceSum `sum x`, ReduceMean `sum x / n`, ReduceMax, ReduceMin (NaN propagates), ReduceProd
/// `prod x`, ReduceL1 `sum |x|`, ReduceL2 `sqrt(sum x^2)`, ReduceSumSquare `sum x^2`,
/// ReduceLogSum `ln(sum x)`, ReduceLogSumExp `ln(sum e^x)`.
/// `axes` is an attribute before opset 13 for ReduceSum and before opset 18 for the others, and
/// the optional int64 input 1 from then on. Empty reductions give the op's identity: 0 for
/// sums, 1 for the product, -inf for ReduceMax, ReduceLogSum and ReduceLogSumExp, +inf for
/// ReduceMin (the type's lowest and highest value for integers), NaN for ReduceMean.
/// Integer Sum, Prod, Max, Min, L1 and SumSquare accumulate exactly in int64 (wrapping; uint64
/// goes through double); everything else accumulates in double and converts back to the input
/// type (integer means truncate).
enum ElementwiseReduce {
  static func register(_ registry: inout KernelRegistry) {
    registry.register("ReduceSum") { try reduce($0, ElementwiseReduceSum.self, inputAxesFrom: 13) }
    registry.register("ReduceMean") { try reduce($0, ElementwiseReduceMean.self, inputAxesFrom: 18) }
    registry.register("ReduceMax") { try reduce($0, ElementwiseReduceMax.self, inputAxesFrom: 18) }
    registry.register("ReduceMin") { try reduce($0, ElementwiseReduceMin.self, inputAxesFrom: 18) }
    registry.register("ReduceProd") { try reduce($0, ElementwiseReduceProd.self, inputAxesFrom: 18) }
    registry.register("ReduceL1") { try reduce($0, ElementwiseReduceL1.self, inputAxesFrom: 18) }
    registry.register("ReduceL2") { try reduce($0, ElementwiseReduceL2.self, inputAxesFrom: 18) }
    registry.register("ReduceSumSquare") { try reduce($0, ElementwiseReduceSumSquare.self, inputAxesFrom: 18) }
    registry.register("ReduceLogSum") { try reduce($0, ElementwiseReduceLogSum.self, inputAxesFrom: 18) }
    registry.register("ReduceLogSumExp") { try reduce($0, ElementwiseReduceLogSumExp.self, inputAxesFrom: 18) }
  }

  static func reduce<R: ElementwiseReducer>(_ context: KernelContext, _: R.Type, inputAxesFrom: Int) throws
    -> [HostTensor?]
  {
    let x = try context.input(0)
    var axes: [Int]
    if context.opsetVersion >= inputAxesFrom {
      axes =
        try context.optionalInput(1).map { try ElementwiseSupport.integers(context, $0, name: "input 1 'axes'") } ?? []
      if axes.isEmpty && context.int("noop_with_empty_axes", default: 0) != 0 { return [x] }
    } else {
      axes = context.ints("axes") ?? []
    }
    if axes.isEmpty { axes = Array(0..<x.rank) }
    var reduced = [Bool](repeating: false, count: x.rank)
    for axis in axes {
      reduced[try ElementwiseSupport.axis(context, axis, rank: x.rank, name: "axis")] = true
    }
    let keepdims = context.int("keepdims", default: 1) != 0
    let keptShape = x.shape.enumerated().map { reduced[$0.offset] ? 1 : $0.element }
    let outputShape = keepdims ? keptShape : x.shape.enumerated().filter { !reduced[$0.offset] }.map(\.element)
    if let initial = R.integerInitial, ElementwiseSupport.integerTypes.contains(x.dataType) || x.dataType == .bool,
      x.dataType != .uint64, let bits = x.dataType.bitWidth
    {
      // Exact int64 accumulation (wrapping); an empty Max/Min gives the type's lowest/highest.
      let signed = x.dataType.isSigned
      let lowest: Int64 = signed ? Int64.min >> Int64(64 - bits) : 0
      let highest: Int64 = x.dataType == .bool ? 1 : (signed ? Int64.max >> Int64(64 - bits) : (1 << Int64(bits)) - 1)
      let wide = ElementwiseSupport.widen(x)
      let values = runInteger(
        wide, R.self, initial: initial, empty: R.integerEmpty(lowest: lowest, highest: highest), reduced: reduced,
        keptShape: keptShape)
      return [ElementwiseSupport.narrow(HostTensor(.int64, shape: outputShape, values: values), to: x.dataType)]
    }
    let values: [Double]
    switch x.dataType {
    case .float: values = run(x, Float.self, R.self, reduced: reduced, keptShape: keptShape)
    case .double: values = run(x, Double.self, R.self, reduced: reduced, keptShape: keptShape)
    case .uint64: values = run(x, UInt64.self, R.self, reduced: reduced, keptShape: keptShape)
    case .float16, .bfloat16:
      values = run(ElementwiseSupport.toFloat(x), Float.self, R.self, reduced: reduced, keptShape: keptShape)
    default:
      guard ElementwiseSupport.integerTypes.contains(x.dataType) || x.dataType == .bool else {
        throw ElementwiseSupport.unsupported(context, x.dataType, expected: "a numeric type")
      }
      values = run(ElementwiseSupport.widen(x), Int64.self, R.self, reduced: reduced, keptShape: keptShape)
    }
    let result = HostTensor(.double, shape: outputShape, values: values)
    return [try ElementwiseCast.convert(result, to: x.dataType, saturate: true)]
  }

  /// The exact reduction of an int64 tensor (ops with an integer form).
  static func runInteger<R: ElementwiseReducer>(
    _ x: HostTensor, _: R.Type, initial: Int64, empty: Int64, reduced: [Bool], keptShape: [Int]
  ) -> [Int64] {
    let outputCount = keptShape.reduce(1, *)
    let n = zip(x.shape, reduced).filter(\.1).map(\.0).reduce(1, *)
    var accumulators = [Int64](repeating: n == 0 ? empty : initial, count: outputCount)
    let source = x.pointer(Int64.self)
    let first = reduced.firstIndex(of: true) ?? 0
    let last = reduced.lastIndex(of: true) ?? -1
    if reduced.isEmpty || !reduced[first...max(first, last)].contains(false) {
      let outer = x.shape.prefix(first).reduce(1, *)
      let inner = x.shape.dropFirst(last + 1).reduce(1, *)
      accumulators.withUnsafeMutableBufferPointer { acc in
        for o in 0..<outer {
          for k in 0..<n {
            let row = (o * n + k) * inner
            for i in 0..<inner { R.integerStep(&acc[o * inner + i], source[row + i]) }
          }
        }
      }
    } else {
      accumulators.withUnsafeMutableBufferPointer { acc in
        Broadcast.forEach(x.shape, operands: [keptShape]) { index, offsets in
          R.integerStep(&acc[offsets[0]], source[index])
        }
      }
    }
    return accumulators
  }

  /// The reduction of `x` (elements of type `S`) into one accumulator per kept element.
  static func run<S: ElementwiseCastSource, R: ElementwiseReducer>(
    _ x: HostTensor, _: S.Type, _: R.Type, reduced: [Bool], keptShape: [Int]
  ) -> [Double] {
    let outputCount = keptShape.reduce(1, *)
    var accumulators = [Double](repeating: R.initial, count: outputCount)
    let n = zip(x.shape, reduced).filter(\.1).map(\.0).reduce(1, *)
    let source = x.pointer(S.self)
    // Fast path: the reduced axes form one contiguous block [first, last].
    let first = reduced.firstIndex(of: true) ?? 0
    let last = reduced.lastIndex(of: true) ?? -1
    if reduced.isEmpty || !reduced[first...max(first, last)].contains(false) {
      let outer = x.shape.prefix(first).reduce(1, *)
      let inner = x.shape.dropFirst(last + 1).reduce(1, *)
      accumulators.withUnsafeMutableBufferPointer { acc in
        if inner == 1 {
          // Reducing the last axes: four independent partial results per row, then combined.
          for o in 0..<outer {
            let row = source + o * n
            var partial = (R.initial, R.initial, R.initial, R.initial)
            var k = 0
            while k + 4 <= n {
              R.step(&partial.0, row[k].castDouble)
              R.step(&partial.1, row[k + 1].castDouble)
              R.step(&partial.2, row[k + 2].castDouble)
              R.step(&partial.3, row[k + 3].castDouble)
              k += 4
            }
            while k < n {
              R.step(&partial.0, row[k].castDouble)
              k += 1
            }
            acc[o] = R.combine(R.combine(partial.0, partial.1), R.combine(partial.2, partial.3))
          }
          return
        }
        for o in 0..<outer {
          for k in 0..<n {
            let row = (o * n + k) * inner
            for i in 0..<inner { R.step(&acc[o * inner + i], source[row + i].castDouble) }
          }
        }
      }
    } else {
      accumulators.withUnsafeMutableBufferPointer { acc in
        Broadcast.forEach(x.shape, operands: [keptShape]) { index, offsets in
          R.step(&acc[offsets[0]], source[index].castDouble)
        }
      }
    }
    return accumulators.map { R.finish($0, count: n) }
  }
}

/// One Reduce op: the accumulator's start, one step per element, and the final value.
protocol ElementwiseReducer {
  static var initial: Double { get }
  static func step(_ accumulator: inout Double, _ x: Double)
  static func finish(_ accumulator: Double, count: Int) -> Double
  /// Merges two partial accumulators.
  static func combine(_ a: Double, _ b: Double) -> Double
  /// The start of an exact int64 accumulation, nil when the op goes through double.
  static var integerInitial: Int64? { get }
  static func integerStep(_ accumulator: inout Int64, _ x: Int64)
  /// The result of an empty integer reduction.
  static func integerEmpty(lowest: Int64, highest: Int64) -> Int64
}

extension ElementwiseReducer {
  static func finish(_ accumulator: Double, count: Int) -> Double { accumulator }
  static func combine(_ a: Double, _ b: Double) -> Double { a + b }
  static var integerInitial: Int64? { nil }
  static func integerStep(_ accumulator: inout Int64, _ x: Int64) {}
  static func integerEmpty(lowest: Int64, highest: Int64) -> Int64 { integerInitial ?? 0 }
}

enum ElementwiseReduceSum: ElementwiseReducer {
  static let integerInitial: Int64? = 0
  static func integerStep(_ accumulator: inout Int64, _ x: Int64) { accumulator &+= x }
  static let initial: Double = 0
  static func step(_ accumulator: inout Double, _ x: Double) { accumulator += x }
}

enum ElementwiseReduceMean: ElementwiseReducer {
  static let initial: Double = 0
  static func step(_ accumulator: inout Double, _ x: Double) { accumulator += x }
  static func finish(_ accumulator: Double, count: Int) -> Double { accumulator / Double(count) }
}

enum ElementwiseReduceMax: ElementwiseReducer {
  static func combine(_ a: Double, _ b: Double) -> Double {
    var result = a
    step(&result, b)
    return result
  }
  static let integerInitial: Int64? = .min
  static func integerStep(_ accumulator: inout Int64, _ x: Int64) { if x > accumulator { accumulator = x } }
  static func integerEmpty(lowest: Int64, highest: Int64) -> Int64 { lowest }
  static let initial = -Double.infinity
  static func step(_ accumulator: inout Double, _ x: Double) { if x > accumulator || x.isNaN { accumulator = x } }
}

enum ElementwiseReduceMin: ElementwiseReducer {
  static func combine(_ a: Double, _ b: Double) -> Double {
    var result = a
    step(&result, b)
    return result
  }
  static let integerInitial: Int64? = .max
  static func integerStep(_ accumulator: inout Int64, _ x: Int64) { if x < accumulator { accumulator = x } }
  static func integerEmpty(lowest: Int64, highest: Int64) -> Int64 { highest }
  static let initial = Double.infinity
  static func step(_ accumulator: inout Double, _ x: Double) { if x < accumulator || x.isNaN { accumulator = x } }
}

enum ElementwiseReduceProd: ElementwiseReducer {
  static func combine(_ a: Double, _ b: Double) -> Double { a * b }
  static let integerInitial: Int64? = 1
  static func integerStep(_ accumulator: inout Int64, _ x: Int64) { accumulator &*= x }
  static let initial: Double = 1
  static func step(_ accumulator: inout Double, _ x: Double) { accumulator *= x }
}

enum ElementwiseReduceL1: ElementwiseReducer {
  static let integerInitial: Int64? = 0
  static func integerStep(_ accumulator: inout Int64, _ x: Int64) { accumulator &+= x < 0 ? 0 &- x : x }
  static let initial: Double = 0
  static func step(_ accumulator: inout Double, _ x: Double) { accumulator += abs(x) }
}

enum ElementwiseReduceL2: ElementwiseReducer {
  static let initial: Double = 0
  static func step(_ accumulator: inout Double, _ x: Double) { accumulator += x * x }
  static func finish(_ accumulator: Double, count: Int) -> Double { accumulator.squareRoot() }
}

enum ElementwiseReduceSumSquare: ElementwiseReducer {
  static let integerInitial: Int64? = 0
  static func integerStep(_ accumulator: inout Int64, _ x: Int64) { accumulator &+= x &* x }
  static let initial: Double = 0
  static func step(_ accumulator: inout Double, _ x: Double) { accumulator += x * x }
}

enum ElementwiseReduceLogSum: ElementwiseReducer {
  static let initial: Double = 0
  static func step(_ accumulator: inout Double, _ x: Double) { accumulator += x }
  static func finish(_ accumulator: Double, count: Int) -> Double { Foundation.log(accumulator) }
}

enum ElementwiseReduceLogSumExp: ElementwiseReducer {
  static let initial: Double = 0
  static func step(_ accumulator: inout Double, _ x: Double) { accumulator += Foundation.exp(x) }
  static func finish(_ accumulator: Double, count: Int) -> Double { Foundation.log(accumulator) }
}
