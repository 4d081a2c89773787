import Foundation

/// Shared plumbing of the elementwise family: typed maps over a tensor's elements, widening of
/// integer tensors to 64 bits and of half-precision tensors to float32 (and back), and input
/// type checks with messages that name the op and what was expected.
///
/// Integer ops compute on `Int64` (signed types, bool, uint8..uint32) or `UInt64` (uint64) and
/// truncate back, which wraps exactly as the narrow type would. float16 and bfloat16 compute
/// on float32 and round back to nearest even.
enum ElementwiseSupport {
  /// `result[i] = op(x[i])`.
  @inline(__always)
  static func map<T, R>(_ x: HostTensor, _: T.Type, into type: DataType, _ op: (T) -> R) -> HostTensor {
    assert(MemoryLayout<R>.stride == type.storageStride, "\(R.self) does not store \(type.name)")
    assert(MemoryLayout<T>.stride == x.dataType.storageStride, "\(T.self) does not store \(x.dataType.name)")
    let result = HostTensor(uninitialized: type, shape: x.shape)
    let source = x.pointer(T.self)
    let target = result.pointer(R.self)
    for index in 0..<x.count { target[index] = op(source[index]) }
    return result
  }

  /// The storage types that compute through float32.
  static func isHalf(_ type: DataType) -> Bool { type == .float16 || type == .bfloat16 }

  /// A float32 copy of a float16, bfloat16 or byte-coded float tensor (float tensors as is).
  static func toFloat(_ x: HostTensor) -> HostTensor {
    switch x.dataType {
    case .float: return x
    case .float16: return map(x, UInt16.self, into: .float) { FloatBits.float16ToFloat($0) }
    case .bfloat16: return map(x, UInt16.self, into: .float) { FloatBits.bfloat16ToFloat($0) }
    case .double: return map(x, Double.self, into: .float) { Float($0) }
    default:
      if let decode = FloatBits.decoder(for: x.dataType) {
        return map(x, UInt8.self, into: .float) { decode($0) }
      }
      let result = HostTensor(zeros: .float, shape: x.shape)
      let target = result.pointer(Float.self)
      for index in 0..<x.count { target[index] = Float(x.element(at: index)) }
      return result
    }
  }

  /// A float32 tensor rounded to float16 or bfloat16 (others as is).
  static func fromFloat(_ x: HostTensor, to type: DataType) -> HostTensor {
    switch type {
    case .float16: return map(x, Float.self, into: .float16) { FloatBits.floatToFloat16($0) }
    case .bfloat16: return map(x, Float.self, into: .bfloat16) { FloatBits.floatToBFloat16($0) }
    default: return x
    }
  }

  /// Integer and bool tensors widened to `Int64` (uint64 stays `UInt64`).
  static func widen(_ x: HostTensor) -> HostTensor {
    switch x.dataType {
    case .int64, .uint64: return x
    case .int8, .int4, .int2: return map(x, Int8.self, into: .int64) { Int64($0) }
    case .uint8, .uint4, .uint2, .bool: return map(x, UInt8.self, into: .int64) { Int64($0) }
    case .int16: return map(x, Int16.self, into: .int64) { Int64($0) }
    case .uint16: return map(x, UInt16.self, into: .int64) { Int64($0) }
    case .int32: return map(x, Int32.self, into: .int64) { Int64($0) }
    case .uint32: return map(x, UInt32.self, into: .int64) { Int64($0) }
    default: return x
    }
  }

  /// A widened tensor (`Int64` or `UInt64`) truncated back to `type`.
  static func narrow(_ x: HostTensor, to type: DataType) -> HostTensor {
    if x.dataType == .uint64 || type == .int64 { return x }
    switch type {
    case .int8, .int4, .int2: return map(x, Int64.self, into: type) { Int8(truncatingIfNeeded: $0) }
    case .uint8, .uint4, .uint2: return map(x, Int64.self, into: type) { UInt8(truncatingIfNeeded: $0) }
    case .bool: return map(x, Int64.self, into: type) { UInt8($0 != 0 ? 1 : 0) }
    case .int16: return map(x, Int64.self, into: type) { Int16(truncatingIfNeeded: $0) }
    case .uint16: return map(x, Int64.self, into: type) { UInt16(truncatingIfNeeded: $0) }
    case .int32: return map(x, Int64.self, into: type) { Int32(truncatingIfNeeded: $0) }
    case .uint32: return map(x, Int64.self, into: type) { UInt32(truncatingIfNeeded: $0) }
    case .uint64: return map(x, Int64.self, into: type) { UInt64(truncatingIfNeeded: $0) }
    default: return x
    }
  }

  /// Element 0 of a floating-point tensor as float32.
  static func firstFloat(_ x: HostTensor) -> Float {
    let wide = toFloat(x)
    return withExtendedLifetime(wide) { wide.pointer(Float.self)[0] }
  }

  /// Element 0 of an integer or bool tensor as Int64 (uint64 reinterpreted).
  static func firstInt64(_ x: HostTensor) -> Int64 {
    let wide = widen(x)
    return withExtendedLifetime(wide) { wide.pointer(Int64.self)[0] }
  }

  /// The integer types the arithmetic ops accept.
  static let integerTypes: Set<DataType> = [.int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64]

  /// float, double, float16 and bfloat16.
  static let floatTypes: Set<DataType> = [.float, .double, .float16, .bfloat16]

  /// Throws unless every present input has the same element type as input 0.
  static func requireSameType(_ context: KernelContext, _ tensors: [HostTensor]) throws {
    guard let first = tensors.first else { return }
    for (index, tensor) in tensors.enumerated().dropFirst() where tensor.dataType != first.dataType {
      throw context.failure(
        "input \(index) has element type \(tensor.dataType.name); expected \(first.dataType.name) like input 0 for \(context.node.opType)"
      )
    }
  }

  /// The error for an element type an op does not take.
  static func unsupported(_ context: KernelContext, _ type: DataType, index: Int = 0, expected: String)
    -> ONNXQATError
  {
    context.failure(
      "input \(index) has element type \(type.name); expected \(expected) for \(context.node.opType)")
  }

  /// Normalizes `axis` in [-rank, rank-1] (or [-rank, rank] when `inclusiveEnd`).
  static func axis(_ context: KernelContext, _ axis: Int, rank: Int, name: String = "axis", inclusiveEnd: Bool = false)
    throws -> Int
  {
    let upper = inclusiveEnd ? rank : rank - 1
    guard axis >= -rank && axis <= upper else {
      throw context.failure("\(name) \(axis) is out of range for rank \(rank); expected [-\(rank), \(upper)]")
    }
    return axis < 0 ? axis + rank : axis
  }

  /// The integer values of a 1-D (or scalar) int32/int64 tensor.
  static func integers(_ context: KernelContext, _ tensor: HostTensor, name: String) throws -> [Int] {
    switch tensor.dataType {
    case .int64: return tensor.values(Int64.self).map { Int($0) }
    case .int32: return tensor.values(Int32.self).map { Int($0) }
    default: throw context.failure("\(name) has element type \(tensor.dataType.name); expected int64")
    }
  }
}
