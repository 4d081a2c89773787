import Foundation

/// Conversions between any numeric tensor and `[Float]` or `[Double]`, for the few data-movement
/// kernels that do arithmetic (Resize linear/cubic, Scatter reductions on bfloat16). Back to an
/// integer type, values round half to even and saturate (ONNX's reference `saturate_cast`);
/// back to float16/bfloat16/float8, they round to nearest even.
extension DataMovement {
  static func floats(_ tensor: HostTensor) -> [Float]? { numbers(tensor, as: Float.self) }

  /// The elements of a numeric or bool tensor converted to `V`.
  static func numbers<V: BinaryFloatingPoint>(_ tensor: HostTensor, as _: V.Type) -> [V]? {
    let count = tensor.count
    func map<T>(_: T.Type, _ convert: (T) -> V) -> [V] {
      let p = tensor.pointer(T.self)
      return (0..<count).map { convert(p[$0]) }
    }
    switch tensor.dataType {
    case .float: return map(Float.self) { V($0) }
    case .double: return map(Double.self) { V($0) }
    case .float16: return map(UInt16.self) { V(FloatBits.float16ToFloat($0)) }
    case .bfloat16: return map(UInt16.self) { V(FloatBits.bfloat16ToFloat($0)) }
    case .int8, .int4, .int2: return map(Int8.self) { V($0) }
    case .uint8, .uint4, .uint2, .bool: return map(UInt8.self) { V($0) }
    case .int16: return map(Int16.self) { V($0) }
    case .uint16: return map(UInt16.self) { V($0) }
    case .int32: return map(Int32.self) { V($0) }
    case .uint32: return map(UInt32.self) { V($0) }
    case .int64: return map(Int64.self) { V($0) }
    case .uint64: return map(UInt64.self) { V($0) }
    default:
      guard let decode = FloatBits.decoder(for: tensor.dataType) else { return nil }
      return map(UInt8.self) { V(decode($0)) }
    }
  }

  /// A tensor of `dataType` holding `values` converted (see the type's summary).
  static func tensor<V: BinaryFloatingPoint>(_ values: [V], _ dataType: DataType, shape: [Int]) -> HostTensor? {
    let result = HostTensor(zeros: dataType, shape: shape)
    func store<T>(_: T.Type, _ convert: (V) -> T) {
      let p = result.pointer(T.self)
      for (i, value) in values.enumerated() { p[i] = convert(value) }
    }
    func integer<T: FixedWidthInteger>(_: T.Type, _ low: T = T.min, _ high: T = T.max) {
      let lowFloat = V(low)
      let highFloat = V(high)
      store(T.self) { value in
        if value.isNaN { return 0 }
        let rounded = value.rounded(.toNearestOrEven)
        if rounded <= lowFloat { return low }
        if rounded >= highFloat { return high }
        return T(rounded)
      }
    }
    switch dataType {
    case .float: store(Float.self) { Float($0) }
    case .double: store(Double.self) { Double($0) }
    case .float16: store(UInt16.self) { FloatBits.floatToFloat16(Float($0)) }
    case .bfloat16: store(UInt16.self) { FloatBits.floatToBFloat16(Float($0)) }
    case .bool: store(UInt8.self) { $0 != 0 ? 1 : 0 }
    case .int8: integer(Int8.self)
    case .uint8: integer(UInt8.self)
    case .int16: integer(Int16.self)
    case .uint16: integer(UInt16.self)
    case .int32: integer(Int32.self)
    case .uint32: integer(UInt32.self)
    case .int64: integer(Int64.self)
    case .uint64: integer(UInt64.self)
    case .int4: integer(Int8.self, -8, 7)
    case .uint4: integer(UInt8.self, 0, 15)
    case .int2: integer(Int8.self, -2, 1)
    case .uint2: integer(UInt8.self, 0, 3)
    default:
      guard FloatBits.decoder(for: dataType) != nil else { return nil }
      var cache: [V: UInt8] = [:]
      store(UInt8.self) { value in
        if let code = cache[value] { return code }
        let code = encode(Double(value), as: dataType)?.first ?? 0
        cache[value] = code
        return code
      }
    }
    return result
  }
}
