import Foundation

/// Binary and variadic arithmetic with NumPy broadcasting, output type = input type:
/// Add, Sub, Mul, Div (integers truncate toward zero; a zero divisor is an error), Mod
/// (`fmod` 0: the result takes the divisor's sign, as Python's `%`; 1: the dividend's, as C's
/// fmod), Pow (base float, double, float16, bfloat16, int32 or int64; exponent any numeric
/// type, converted to the base type; integer powers by repeated squaring; a constant float32
/// exponent 1, 2, 0.5 or -1 without powf), PRelu
/// `x < 0 ? slope*x : x` (slope broadcast to x), BitShift (`direction` LEFT or RIGHT; unsigned,
/// and signed from opset 28 with arithmetic right shifts; shifts outside [0, width) give 0, or
/// -1 for negative values shifted right) and the variadic Min, Max (NaN propagates), Sum
/// and Mean of one or more inputs (every opset; before 8 they had no broadcasting, which the
/// broadcasting kernel reproduces for equal shapes). The binary ops start at opset 7: opsets 1-6
/// had the legacy `broadcast` and `axis` attributes, which are not supported. float32 Add, Sub,
/// Mul and Div take the loops of `ElementwiseFloatBinary` where they apply.
enum ElementwiseBinary {
  /// `op(a, b)` over the broadcast shape for every numeric type: float32 and double directly,
  /// float16 and bfloat16 through float32, integers widened to 64 bits.
  @inline(__always)
  static func arithmetic(
    _ context: KernelContext, _ a: HostTensor, _ b: HostTensor, _ float: (Float, Float) -> Float,
    _ double: (Double, Double) -> Double, _ int: (Int64, Int64) -> Int64, _ uint: (UInt64, UInt64) -> UInt64
  ) throws -> HostTensor {
    try ElementwiseSupport.requireSameType(context, [a, b])
    let type = a.dataType
    do {
      switch type {
      case .float: return try ElementwiseBroadcast.binary(a, b, Float.self, Float.self, into: .float, float)
      case .double: return try ElementwiseBroadcast.binary(a, b, Double.self, Double.self, into: .double, double)
      case .float16, .bfloat16:
        let wide = try ElementwiseBroadcast.binary(
          ElementwiseSupport.toFloat(a), ElementwiseSupport.toFloat(b), Float.self, Float.self, into: .float, float)
        return ElementwiseSupport.fromFloat(wide, to: type)
      default:
        guard ElementwiseSupport.integerTypes.contains(type) else {
          throw ElementwiseSupport.unsupported(context, type, expected: "a numeric type")
        }
        let wa = ElementwiseSupport.widen(a)
        let wb = ElementwiseSupport.widen(b)
        if type == .uint64 {
          return try ElementwiseBroadcast.binary(wa, wb, UInt64.self, UInt64.self, into: .uint64, uint)
        }
        let wide = try ElementwiseBroadcast.binary(wa, wb, Int64.self, Int64.self, into: .int64, int)
        return ElementwiseSupport.narrow(wide, to: type)
      }
    } catch let error as ONNXQATError {
      if case .badArgument(let message) = error, message.hasPrefix("shapes") {
        throw context.failure("inputs \(a.typeDescription) and \(b.typeDescription): \(message)")
      }
      throw error
    }
  }

  /// Throws when an integer divisor has a zero element.
  static func checkDivisor(_ context: KernelContext, _ b: HostTensor) throws {
    guard ElementwiseSupport.integerTypes.contains(b.dataType) else { return }
    let wide = ElementwiseSupport.widen(b)
    let zero =
      wide.dataType == .uint64
      ? wide.values(UInt64.self).contains(0) : wide.values(Int64.self).contains(0)
    if zero { throw context.failure("integer division by zero (input 1 has a zero element)") }
  }

  /// Python's `%` on floats: the result has the divisor's sign.
  static func floorMod<T: FloatingPoint>(_ a: T, _ b: T, _ fmod: (T, T) -> T) -> T {
    let r = fmod(a, b)
    return r != 0 && (r < 0) != (b < 0) ? r + b : r
  }

  static func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
    let r = a.remainderReportingOverflow(dividingBy: b).partialValue
    return r != 0 && (r < 0) != (b < 0) ? r &+ b : r
  }

  static func integerPower(_ base: Int64, _ exponent: Int64) -> Int64 {
    if exponent < 0 { return base == 1 ? 1 : (base == -1 ? (exponent & 1 == 0 ? 1 : -1) : 0) }
    var result: Int64 = 1
    var b = base
    var e = exponent
    while e > 0 {
      if e & 1 == 1 { result = result &* b }
      b = b &* b
      e >>= 1
    }
    return result
  }

  static func nanMin<T: FloatingPoint>(_ a: T, _ b: T) -> T { a.isNaN || b.isNaN ? .nan : (b < a ? b : a) }
  static func nanMax<T: FloatingPoint>(_ a: T, _ b: T) -> T { a.isNaN || b.isNaN ? .nan : (b > a ? b : a) }

  static func register(_ registry: inout KernelRegistry) {
    let versions = 7...Int.max
    registry.register("Add", versions: versions) { context in
      let (a, b) = (try context.input(0), try context.input(1))
      if let result = ElementwiseFloatBinary.run(a, b, .add) { return [result] }
      return [try arithmetic(context, a, b, +, +, &+, &+)]
    }
    registry.register("Sub", versions: versions) { context in
      let (a, b) = (try context.input(0), try context.input(1))
      if let result = ElementwiseFloatBinary.run(a, b, .sub) { return [result] }
      return [try arithmetic(context, a, b, -, -, &-, &-)]
    }
    registry.register("Mul", versions: versions) { context in
      let (a, b) = (try context.input(0), try context.input(1))
      if let result = ElementwiseFloatBinary.run(a, b, .mul) { return [result] }
      return [try arithmetic(context, a, b, *, *, &*, &*)]
    }
    registry.register("Div", versions: versions) { context in
      let (a, b) = (try context.input(0), try context.input(1))
      if let result = ElementwiseFloatBinary.run(a, b, .div) { return [result] }
      try checkDivisor(context, b)
      return [
        try arithmetic(
          context, a, b, /, /, { $0.dividedReportingOverflow(by: $1).partialValue },
          { $0.dividedReportingOverflow(by: $1).partialValue })
      ]
    }
    registry.register("Mod", versions: versions) { context in
      let b = try context.input(1)
      try checkDivisor(context, b)
      if context.int("fmod", default: 0) != 0 {
        return [
          try arithmetic(
            context, context.input(0), b, { Foundation.fmod($0, $1) }, { Foundation.fmod($0, $1) },
            { $0.remainderReportingOverflow(dividingBy: $1).partialValue }, { $0 % $1 })
        ]
      }
      return [
        try arithmetic(
          context, context.input(0), b, { floorMod($0, $1, Foundation.fmod) }, { floorMod($0, $1, Foundation.fmod) },
          { floorMod($0, $1) }, { $0 % $1 })
      ]
    }
    registry.register("Pow", versions: versions) { context in
      let base = try context.input(0)
      let exponent = try context.input(1)
      let type = base.dataType
      if type == .float && exponent.count == 1 && base.rank >= exponent.rank {
        // Common constant exponents without powf.
        let e = ElementwiseSupport.firstFloat(try ElementwiseCast.convert(exponent, to: .float, saturate: true))
        switch e {
        case 1: return [ElementwiseSupport.map(base, Float.self, into: .float) { $0 }]
        case 2: return [ElementwiseSupport.map(base, Float.self, into: .float) { $0 * $0 }]
        case 0.5:
          return [
            ElementwiseSupport.map(base, Float.self, into: .float) {
              $0 == -.infinity ? .infinity : ($0 == 0 ? 0 : $0.squareRoot())
            }
          ]
        case -1: return [ElementwiseSupport.map(base, Float.self, into: .float) { 1 / $0 }]
        default: return [ElementwiseSupport.map(base, Float.self, into: .float) { Foundation.pow($0, e) }]
        }
      }
      if ElementwiseSupport.floatTypes.contains(type) {
        let converted = try ElementwiseCast.convert(exponent, to: type, saturate: true)
        return [
          try arithmetic(
            context, base, converted, { Foundation.pow($0, $1) }, { Foundation.pow($0, $1) }, { a, _ in a },
            { a, _ in a })
        ]
      }
      guard type == .int32 || type == .int64 || ElementwiseSupport.integerTypes.contains(type) else {
        throw ElementwiseSupport.unsupported(
          context, type, expected: "float, double, float16, bfloat16, int32 or int64")
      }
      let wideBase = ElementwiseSupport.widen(base)
      let result: HostTensor
      if exponent.dataType.isFloatingPoint {
        let e = try ElementwiseCast.convert(exponent, to: .double, saturate: true)
        result = try ElementwiseBroadcast.binary(wideBase, e, Int64.self, Double.self, into: .int64) {
          ElementwiseCast.int64(Foundation.pow(Double($0), $1))
        }
      } else {
        let e = try ElementwiseCast.convert(exponent, to: .int64, saturate: true)
        result = try ElementwiseBroadcast.binary(wideBase, e, Int64.self, Int64.self, into: .int64, integerPower)
      }
      return [ElementwiseSupport.narrow(result, to: type)]
    }
    registry.register("PRelu", versions: versions) { context in
      let x = try context.input(0)
      let slope = try context.input(1)
      guard (try? Broadcast.shape([x.shape, slope.shape])) == x.shape else {
        throw context.failure(
          "input 1 'slope' has shape \(slope.shape); expected a shape that broadcasts to x's \(x.shape)")
      }
      return [
        try arithmetic(
          context, x, slope, { $0 < 0 ? $0 * $1 : $0 }, { $0 < 0 ? $0 * $1 : $0 }, { $0 < 0 ? $0 &* $1 : $0 },
          { a, _ in a })
      ]
    }
    registry.register("BitShift") { context in
      let x = try context.input(0)
      let direction = context.string("direction", default: "")
      guard ElementwiseSupport.integerTypes.contains(x.dataType), let width = x.dataType.bitWidth else {
        throw ElementwiseSupport.unsupported(context, x.dataType, expected: "an integer type")
      }
      let bits = Int64(width)
      switch direction {
      case "LEFT":
        return [
          try arithmetic(
            context, x, context.input(1), { a, _ in a }, { a, _ in a }, { $1 < 0 || $1 >= bits ? 0 : $0 << $1 },
            { $0 << $1 })
        ]
      case "RIGHT":
        return [
          try arithmetic(
            context, x, context.input(1), { a, _ in a }, { a, _ in a },
            { $1 < 0 || $1 >= bits ? ($0 < 0 ? -1 : 0) : $0 >> $1 }, { $0 >> $1 })
        ]
      default:
        throw context.failure("direction is '\(direction)'; expected 'LEFT' or 'RIGHT'")
      }
    }
    registerVariadic(&registry)
  }

  /// Min, Max, Sum and Mean: a left fold of the pairwise op over every input.
  static func registerVariadic(_ registry: inout KernelRegistry) {
    func fold(_ context: KernelContext, _ step: (HostTensor, HostTensor) throws -> HostTensor) throws -> HostTensor {
      let inputs = context.inputs.compactMap { $0 }
      guard var result = inputs.first else { throw context.failure("expected at least one input") }
      if inputs.count == 1 { return result.copy() }
      for next in inputs.dropFirst() { result = try step(result, next) }
      return result
    }
    registry.register("Min", versions: 1...Int.max) { context in
      [
        try fold(context) {
          try arithmetic(context, $0, $1, nanMin, nanMin, { Swift.min($0, $1) }, { Swift.min($0, $1) })
        }
      ]
    }
    registry.register("Max", versions: 1...Int.max) { context in
      [
        try fold(context) {
          try arithmetic(context, $0, $1, nanMax, nanMax, { Swift.max($0, $1) }, { Swift.max($0, $1) })
        }
      ]
    }
    func add(_ context: KernelContext, _ a: HostTensor, _ b: HostTensor) throws -> HostTensor {
      if let result = ElementwiseFloatBinary.run(a, b, .add) { return result }
      return try arithmetic(context, a, b, +, +, &+, &+)
    }
    registry.register("Sum", versions: 1...Int.max) { context in
      [try fold(context) { try add(context, $0, $1) }]
    }
    registry.register("Mean", versions: 1...Int.max) { context in
      let sum = try fold(context) { try add(context, $0, $1) }
      let count = context.inputs.compactMap { $0 }.count
      let divisor = try ElementwiseCast.convert(HostTensor.scalar(Float(count)), to: sum.dataType, saturate: true)
      return [try arithmetic(context, sum, divisor, /, /, { $0 / $1 }, { $0 / $1 })]
    }
  }
}
