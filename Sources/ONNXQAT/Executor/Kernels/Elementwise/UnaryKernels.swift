import Foundation

/// Unary elementwise maps `y[i] = f(x[i])`, output shape = input shape:
/// - activations: Relu `max(x, 0)`, LeakyRelu `x < 0 ? alpha*x : x` (alpha 0.01), Sigmoid
///   `1/(1+e^-x)`, HardSigmoid `max(0, min(1, alpha*x+beta))` (0.2, 0.5), HardSwish
///   `x*max(0, min(1, x/6+1/2))`, Tanh, Erf, Gelu (opset 20; approximate "none":
///   `x/2*(1+erf(x/sqrt 2))`, "tanh": `x/2*(1+tanh(sqrt(2/pi)*(x+0.044715x^3)))`), Elu
///   `x < 0 ? alpha*(e^x-1) : x` (1.0), Selu `gamma*(x <= 0 ? alpha*e^x-alpha : x)`, Softplus
///   `ln(e^x+1)`, Softsign `x/(1+|x|)`;
/// - math: Sqrt, Reciprocal, Exp, Log, Floor, Ceil, Round (half to even), Neg, Abs, Sign;
/// - predicates: IsNaN, IsInf (detect_negative, detect_positive; default 1), Not (bool).
/// float, double, float16 and bfloat16 everywhere (half types through float32); Relu (opset
/// 14), Neg, Abs and Sign also on integers. The attributes are the same in every opset
/// version (opset 6's consumed_inputs of old ops is ignored).
enum ElementwiseUnary {
  /// A float-family op: float32 and double loops, half types through float32.
  @inline(__always)
  static func float(_ context: KernelContext, _ float: (Float) -> Float, _ double: (Double) -> Double) throws
    -> [HostTensor?]
  {
    let x = try context.input(0)
    switch x.dataType {
    case .float: return [ElementwiseSupport.map(x, Float.self, into: .float, float)]
    case .double: return [ElementwiseSupport.map(x, Double.self, into: .double, double)]
    case .float16, .bfloat16:
      let wide = ElementwiseSupport.map(ElementwiseSupport.toFloat(x), Float.self, into: .float, float)
      return [ElementwiseSupport.fromFloat(wide, to: x.dataType)]
    default:
      throw ElementwiseSupport.unsupported(context, x.dataType, expected: "float, double, float16 or bfloat16")
    }
  }

  /// An op on floats and integers (integers widened to 64 bits).
  @inline(__always)
  static func numeric(
    _ context: KernelContext, _ float: (Float) -> Float, _ double: (Double) -> Double, _ int: (Int64) -> Int64,
    _ uint: (UInt64) -> UInt64
  ) throws -> [HostTensor?] {
    let x = try context.input(0)
    if ElementwiseSupport.floatTypes.contains(x.dataType) { return try Self.float(context, float, double) }
    guard ElementwiseSupport.integerTypes.contains(x.dataType) else {
      throw ElementwiseSupport.unsupported(context, x.dataType, expected: "a numeric type")
    }
    let wide = ElementwiseSupport.widen(x)
    if wide.dataType == .uint64 { return [ElementwiseSupport.map(wide, UInt64.self, into: .uint64, uint)] }
    let result = ElementwiseSupport.map(wide, Int64.self, into: .int64, int)
    return [ElementwiseSupport.narrow(result, to: x.dataType)]
  }

  /// A predicate on floats: bool output.
  @inline(__always)
  static func predicate(_ context: KernelContext, _ float: (Float) -> Bool, _ double: (Double) -> Bool) throws
    -> [HostTensor?]
  {
    let x = try context.input(0)
    switch x.dataType {
    case .float: return [ElementwiseSupport.map(x, Float.self, into: .bool) { float($0) ? UInt8(1) : 0 }]
    case .double: return [ElementwiseSupport.map(x, Double.self, into: .bool) { double($0) ? UInt8(1) : 0 }]
    default:
      guard x.dataType.isFloatingPoint else {
        throw ElementwiseSupport.unsupported(context, x.dataType, expected: "a floating-point type")
      }
      return [
        ElementwiseSupport.map(ElementwiseSupport.toFloat(x), Float.self, into: .bool) { float($0) ? UInt8(1) : 0 }
      ]
    }
  }

  /// Relu on float32: `x > 0 ? x : 0` (a fused Conv epilogue applies this too).
  @inline(__always)
  static func relu(_ x: Float) -> Float { x > 0 ? x : 0 }

  /// LeakyRelu on float32: `x < 0 ? alpha * x : x` (a fused Conv epilogue applies this too).
  @inline(__always)
  static func leakyRelu(_ x: Float, alpha: Float) -> Float { x < 0 ? alpha * x : x }

  static func register(_ registry: inout KernelRegistry) {
    registry.register("Relu") { context in
      try numeric(context, relu, { $0 > 0 ? $0 : 0 }, { max($0, 0) }, { $0 })
    }
    registry.register("LeakyRelu") { context in
      let alpha = context.float("alpha", default: 0.01)
      return try float(context, { leakyRelu($0, alpha: alpha) }, { $0 < 0 ? Double(alpha) * $0 : $0 })
    }
    registry.register("Sigmoid") { context in
      try float(context, sigmoid, sigmoid)
    }
    registry.register("HardSigmoid") { context in
      let alpha = context.float("alpha", default: 0.2)
      let beta = context.float("beta", default: 0.5)
      return try float(
        context, { max(0, min(1, alpha * $0 + beta)) }, { max(0, min(1, Double(alpha) * $0 + Double(beta))) })
    }
    registry.register("HardSwish") { context in
      try float(context, { $0 * max(0, min(1, $0 / 6 + 0.5)) }, { $0 * max(0, min(1, $0 / 6 + 0.5)) })
    }
    registry.register("Tanh") { context in try float(context, { Foundation.tanh($0) }, { Foundation.tanh($0) }) }
    registry.register("Erf") { context in try float(context, { Foundation.erf($0) }, { Foundation.erf($0) }) }
    registry.register("Gelu") { context in
      let approximate = context.string("approximate", default: "none")
      switch approximate {
      case "none":
        return try float(
          context, { 0.5 * $0 * (1 + Foundation.erf($0 * 0.70710678118654752)) },
          { 0.5 * $0 * (1 + Foundation.erf($0 * 0.70710678118654752)) })
      case "tanh":
        let k = 0.79788456080286535587989211986876  // sqrt(2/pi)
        return try float(
          context, { 0.5 * $0 * (1 + Foundation.tanh(Float(k) * ($0 + 0.044715 * $0 * $0 * $0))) },
          { 0.5 * $0 * (1 + Foundation.tanh(k * ($0 + 0.044715 * $0 * $0 * $0))) })
      default:
        throw context.failure("approximate is '\(approximate)'; expected 'none' or 'tanh'")
      }
    }
    registry.register("Elu") { context in
      let alpha = context.float("alpha", default: 1)
      return try float(
        context, { $0 < 0 ? alpha * (Foundation.exp($0) - 1) : $0 },
        { $0 < 0 ? Double(alpha) * (Foundation.exp($0) - 1) : $0 })
    }
    registry.register("Selu") { context in
      // Selu-1 defaulted to the rounded constants; Selu-6 to the float32 nearest the exact ones.
      let legacy = context.opsetVersion < 6
      let alpha = context.float("alpha", default: legacy ? 1.6732 : 1.67326319217681884765625)
      let gamma = context.float("gamma", default: legacy ? 1.0507 : 1.05070102214813232421875)
      return try float(
        context, { $0 <= 0 ? gamma * (alpha * Foundation.exp($0) - alpha) : gamma * $0 },
        { $0 <= 0 ? Double(gamma) * (Double(alpha) * Foundation.exp($0) - Double(alpha)) : Double(gamma) * $0 })
    }
    registry.register("Softplus") { context in
      try float(context, softplus, softplus)
    }
    registry.register("Softsign") { context in
      try float(context, { $0 / (1 + abs($0)) }, { $0 / (1 + abs($0)) })
    }
    registry.register("Sqrt") { context in try float(context, { $0.squareRoot() }, { $0.squareRoot() }) }
    registry.register("Reciprocal") { context in try float(context, { 1 / $0 }, { 1 / $0 }) }
    registry.register("Exp") { context in try float(context, { Foundation.exp($0) }, { Foundation.exp($0) }) }
    registry.register("Log") { context in try float(context, { Foundation.log($0) }, { Foundation.log($0) }) }
    registry.register("Floor") { context in try float(context, { $0.rounded(.down) }, { $0.rounded(.down) }) }
    registry.register("Ceil") { context in try float(context, { $0.rounded(.up) }, { $0.rounded(.up) }) }
    registry.register("Round") { context in
      try float(context, { $0.rounded(.toNearestOrEven) }, { $0.rounded(.toNearestOrEven) })
    }
    registry.register("Neg") { context in try numeric(context, { -$0 }, { -$0 }, { 0 &- $0 }, { 0 &- $0 }) }
    registry.register("Abs") { context in
      try numeric(context, { abs($0) }, { abs($0) }, { $0 < 0 ? 0 &- $0 : $0 }, { $0 })
    }
    registry.register("Sign") { context in
      try numeric(context, sign, sign, { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, { $0 > 0 ? 1 : 0 })
    }
    registry.register("IsNaN") { context in try predicate(context, { $0.isNaN }, { $0.isNaN }) }
    registry.register("IsInf") { context in
      let negative = context.int("detect_negative", default: 1) != 0
      let positive = context.int("detect_positive", default: 1) != 0
      return try predicate(
        context, { $0.isInfinite && ($0 < 0 ? negative : positive) },
        { $0.isInfinite && ($0 < 0 ? negative : positive) })
    }
    registry.register("Not") { context in
      let x = try context.input(0)
      guard x.dataType == .bool else { throw ElementwiseSupport.unsupported(context, x.dataType, expected: "bool") }
      return [ElementwiseSupport.map(x, UInt8.self, into: .bool) { $0 == 0 ? UInt8(1) : 0 }]
    }
  }

  static func sigmoid<T: BinaryFloatingPoint & ElementwiseMathShim>(_ x: T) -> T {
    x >= 0 ? 1 / (1 + T.exponential(-x)) : T.exponential(x) / (1 + T.exponential(x))
  }

  static func softplus<T: BinaryFloatingPoint & ElementwiseMathShim>(_ x: T) -> T {
    x > 0 ? x + T.logarithm1p(T.exponential(-x)) : T.logarithm1p(T.exponential(x))
  }

  static func sign<T: BinaryFloatingPoint>(_ x: T) -> T { x > 0 ? 1 : (x < 0 ? -1 : (x.isNaN ? x : 0)) }
}

/// exp and log1p for Float and Double, so that generic helpers call the C library's.
protocol ElementwiseMathShim {
  static func exponential(_ x: Self) -> Self
  static func logarithm1p(_ x: Self) -> Self
  static func logarithm(_ x: Self) -> Self
}

extension Float: ElementwiseMathShim {
  static func exponential(_ x: Float) -> Float { Foundation.exp(x) }
  static func logarithm1p(_ x: Float) -> Float { Foundation.log1p(x) }
  static func logarithm(_ x: Float) -> Float { Foundation.log(x) }
}

extension Double: ElementwiseMathShim {
  static func exponential(_ x: Double) -> Double { Foundation.exp(x) }
  static func logarithm1p(_ x: Double) -> Double { Foundation.log1p(x) }
  static func logarithm(_ x: Double) -> Double { Foundation.log(x) }
}
