import Foundation

/// Cast (attribute `to`, an enum value, or a type name such as "FLOAT" in opset 1; `saturate` from opset 19, default 1; `round_mode` for float8e8m0 from
/// opset 24) and CastLike (opset 15: the type of input 1) between every numeric type, bool and
/// string:
/// - float to integer truncates toward zero and wraps to the target width (NaN, infinities
///   and values outside int64 become INT64_MIN first), as NumPy does on x86; int4/uint4 and
///   int2/uint2 wrap to their width;
/// - to float16 and bfloat16 rounds to nearest even (double through float32), to the float8,
///   float4 and float6 formats through `MinifloatEncoder`;
/// - to bool: `x != 0`; from bool: 0 or 1;
/// - to string: integers in decimal, floats as the shortest text that reads back the same
///   float32 (NaN, INF, -INF); from string: decimal or scientific text, "NaN", "INF", "-INF"
///   ("inf", "infinity" in any case too).
enum ElementwiseCast {
  /// `x` converted to `type`.
  static func convert(_ x: HostTensor, to type: DataType, saturate: Bool, roundMode: String = "up") throws
    -> HostTensor
  {
    if x.dataType == type { return x }
    if type == .string { return HostTensor(strings: strings(x), shape: x.shape) }
    if x.dataType == .string {
      if type.isInteger || type == .bool {
        // Integer text reads exactly (int64 beyond 2^53 included); other text through double.
        let exact = x.strings.map { Int64($0.trimmingCharacters(in: .whitespaces)) }
        if !exact.contains(nil) {
          let integers = HostTensor(.int64, shape: x.shape, values: exact.map { $0 ?? 0 })
          return try convert(integers, to: type, saturate: saturate, roundMode: roundMode)
        }
      }
      let parsed = try x.strings.map { text -> Double in
        guard let value = parse(text) else {
          throw ONNXQATError.badArgument("string '\(text)' is not a number")
        }
        return value
      }
      let doubles = HostTensor(.double, shape: x.shape, values: parsed)
      if type == .float || !type.isFloatingPoint {
        return try convert(doubles, to: type, saturate: saturate, roundMode: roundMode)
      }
      return try convert(
        convert(doubles, to: .float, saturate: saturate), to: type, saturate: saturate, roundMode: roundMode)
    }
    guard type.bitWidth != nil, type != .complex64, type != .complex128 else {
      throw ONNXQATError.badArgument("cast to \(type.name) is not supported")
    }
    switch x.dataType {
    case .double: return write(x, Double.self, to: type, saturate: saturate, roundMode: roundMode)
    case .uint64: return write(x, UInt64.self, to: type, saturate: saturate, roundMode: roundMode)
    default:
      if x.dataType.isFloatingPoint {
        return write(ElementwiseSupport.toFloat(x), Float.self, to: type, saturate: saturate, roundMode: roundMode)
      }
      guard x.dataType.isInteger || x.dataType == .bool else {
        throw ONNXQATError.badArgument("cast from \(x.dataType.name) is not supported")
      }
      return write(ElementwiseSupport.widen(x), Int64.self, to: type, saturate: saturate, roundMode: roundMode)
    }
  }

  /// Writes a float32, double, int64 or uint64 tensor as `type`.
  static func write<S: ElementwiseCastSource>(
    _ x: HostTensor, _: S.Type, to type: DataType, saturate: Bool, roundMode: String
  ) -> HostTensor {
    typealias M = ElementwiseSupport
    switch type {
    case .float: return M.map(x, S.self, into: type) { $0.castFloat }
    case .double: return M.map(x, S.self, into: type) { $0.castDouble }
    case .float16: return M.map(x, S.self, into: type) { FloatBits.floatToFloat16($0.castFloat) }
    case .bfloat16: return M.map(x, S.self, into: type) { FloatBits.floatToBFloat16($0.castFloat) }
    case .bool: return M.map(x, S.self, into: type) { $0.castBool ? UInt8(1) : 0 }
    case .int8: return M.map(x, S.self, into: type) { Int8(truncatingIfNeeded: $0.castInt64) }
    case .uint8: return M.map(x, S.self, into: type) { UInt8(truncatingIfNeeded: $0.castInt64) }
    case .int16: return M.map(x, S.self, into: type) { Int16(truncatingIfNeeded: $0.castInt64) }
    case .uint16: return M.map(x, S.self, into: type) { UInt16(truncatingIfNeeded: $0.castInt64) }
    case .int32: return M.map(x, S.self, into: type) { Int32(truncatingIfNeeded: $0.castInt64) }
    case .uint32: return M.map(x, S.self, into: type) { UInt32(truncatingIfNeeded: $0.castInt64) }
    case .int64: return M.map(x, S.self, into: type) { $0.castInt64 }
    case .uint64: return M.map(x, S.self, into: type) { $0.castUInt64 }
    case .int4, .int2:
      let shift = type == .int4 ? 4 : 6
      return M.map(x, S.self, into: type) { Int8(truncatingIfNeeded: $0.castInt64 << shift) >> shift }
    case .uint4, .uint2:
      let mask: Int64 = type == .uint4 ? 0xf : 0x3
      return M.map(x, S.self, into: type) { UInt8(truncatingIfNeeded: $0.castInt64 & mask) }
    case .float8e8m0:
      return M.map(x, S.self, into: type) {
        MinifloatEncoder.encodeE8M0($0.castFloat, saturate: saturate, roundMode: roundMode)
      }
    default:
      guard let encoder = MinifloatEncoder(type) else { return HostTensor(zeros: type, shape: x.shape) }
      // The fn/fnuz float8 formats saturate only when asked; float4 and float6 always do.
      let clamp = saturate || type == .float4e2m1 || type == .float6e2m3 || type == .float6e3m2
      return M.map(x, S.self, into: type) { encoder.encode($0.castFloat, saturate: clamp) }
    }
  }

  /// A value that round-trips `x` (float32-like for float types, as NumPy's str does).
  static func strings(_ x: HostTensor) -> [String] {
    if x.dataType == .string { return x.strings }
    if x.dataType.isInteger || x.dataType == .bool {
      let wide = ElementwiseSupport.widen(x)
      if wide.dataType == .uint64 { return wide.values(UInt64.self).map { String($0) } }
      return wide.values(Int64.self).map { String($0) }
    }
    func text(_ value: Double, _ description: String) -> String {
      if value.isNaN { return "NaN" }
      if value.isInfinite { return value < 0 ? "-INF" : "INF" }
      return description
    }
    if x.dataType == .double { return x.values(Double.self).map { text($0, "\($0)") } }
    return ElementwiseSupport.toFloat(x).values(Float.self).map { text(Double($0), "\($0)") }
  }

  static func parse(_ text: String) -> Double? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    switch trimmed.lowercased() {
    case "nan", "+nan", "-nan": return .nan
    case "inf", "+inf", "infinity", "+infinity": return .infinity
    case "-inf", "-infinity": return -.infinity
    default: return Double(trimmed)
    }
  }

  /// Truncation of a Double to Int64 as x86 does (INT64_MIN for NaN and out-of-range values).
  static func int64(_ value: Double) -> Int64 {
    guard value.isFinite, value >= -0x1p63, value < 0x1p63 else { return .min }
    return Int64(value.rounded(.towardZero))
  }

  static func register(_ registry: inout KernelRegistry) {
    registry.register("Cast") { context in
      let x = try context.input(0)
      let type: DataType
      if let to = context.int("to") {
        type = DataType(rawValue: Int32(truncatingIfNeeded: to))
      } else if let name = context.string("to"), let named = DataType(name: name.lowercased()) {
        type = named  // Cast-1: the type by name ("FLOAT")
      } else {
        throw context.failure("attribute 'to' is missing or names no known type; expected a TensorProto data type")
      }
      let saturate = context.int("saturate", default: 1) != 0
      do {
        return [try convert(x, to: type, saturate: saturate, roundMode: context.string("round_mode", default: "up"))]
      } catch let error as ONNXQATError {
        throw context.failure("\(error)")
      }
    }
    registry.register("CastLike") { context in
      let x = try context.input(0)
      let like = try context.input(1)
      let saturate = context.int("saturate", default: 1) != 0
      do {
        return [
          try convert(x, to: like.dataType, saturate: saturate, roundMode: context.string("round_mode", default: "up"))
        ]
      } catch let error as ONNXQATError {
        throw context.failure("\(error)")
      }
    }
  }
}

/// The element types Cast converts from after widening.
protocol ElementwiseCastSource {
  var castFloat: Float { get }
  var castDouble: Double { get }
  var castInt64: Int64 { get }
  var castUInt64: UInt64 { get }
  var castBool: Bool { get }
}

extension Float: ElementwiseCastSource {
  var castFloat: Float { self }
  var castDouble: Double { Double(self) }
  var castInt64: Int64 { ElementwiseCast.int64(Double(self)) }
  var castUInt64: UInt64 {
    if self >= 0 && self < 18_446_744_073_709_551_616.0 { return UInt64(self.rounded(.towardZero)) }
    return UInt64(bitPattern: castInt64)
  }
  var castBool: Bool { self != 0 }
}

extension Double: ElementwiseCastSource {
  var castFloat: Float { Float(self) }
  var castDouble: Double { self }
  var castInt64: Int64 { ElementwiseCast.int64(self) }
  var castUInt64: UInt64 {
    if self >= 0 && self < 18_446_744_073_709_551_616.0 { return UInt64(self.rounded(.towardZero)) }
    return UInt64(bitPattern: castInt64)
  }
  var castBool: Bool { self != 0 }
}

extension Int64: ElementwiseCastSource {
  var castFloat: Float { Float(self) }
  var castDouble: Double { Double(self) }
  var castInt64: Int64 { self }
  var castUInt64: UInt64 { UInt64(bitPattern: self) }
  var castBool: Bool { self != 0 }
}

extension UInt64: ElementwiseCastSource {
  var castFloat: Float { Float(self) }
  var castDouble: Double { Double(self) }
  var castInt64: Int64 { Int64(bitPattern: self) }
  var castUInt64: UInt64 { self }
  var castBool: Bool { self != 0 }
}
