import Foundation

/// Element values of a tensor as text, in the spelling ONNX's text syntax uses: decimal numbers
/// for integer and float types, bit patterns for float16/bfloat16/float8/float4 (the parser
/// reads those types' literals as integers), quoted strings.
enum TensorValues {
  static func strings(_ tensor: Tensor) -> [String]? {
    let type = tensor.elementType
    let count = tensor.elementCount
    if type == .string { return tensor.stringData.map(quoted) }
    // Sub-byte types written one element per int32 (as onnx.parser does) rather than packed.
    if let bits = type.bitWidth, bits < 8, tensor.rawData == nil, !tensor.isExternal,
      tensor.int32Data.count / 4 == count
    {
      return tensor.int32Data.withUnsafeBytes { $0.bindMemory(to: Int32.self).map { String($0) } }
    }
    guard let bytes = tensor.payloadBytes(), let bits = type.bitWidth else { return nil }
    guard bytes.count * 8 >= count * bits else { return nil }
    return bytes.withUnsafeBytes { raw -> [String] in
      func load<T>(_: T.Type, _ index: Int) -> T {
        raw.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self)
      }
      switch type {
      case .float: return (0..<count).map { format(Float(bitPattern: load(UInt32.self, $0))) }
      case .complex64: return (0..<count * 2).map { format(Float(bitPattern: load(UInt32.self, $0))) }
      case .double: return (0..<count).map { format(Double(bitPattern: load(UInt64.self, $0))) }
      case .complex128: return (0..<count * 2).map { format(Double(bitPattern: load(UInt64.self, $0))) }
      case .int8: return (0..<count).map { String(load(Int8.self, $0)) }
      case .int16: return (0..<count).map { String(load(Int16.self, $0)) }
      case .int32: return (0..<count).map { String(load(Int32.self, $0)) }
      case .int64: return (0..<count).map { String(load(Int64.self, $0)) }
      case .uint16, .float16, .bfloat16: return (0..<count).map { String(load(UInt16.self, $0)) }
      case .uint32: return (0..<count).map { String(load(UInt32.self, $0)) }
      case .uint64: return (0..<count).map { String(load(UInt64.self, $0)) }
      case .int4, .int2:
        return (0..<count).map { String(signedField(raw, index: $0, bits: bits)) }
      default:
        if bits < 8 { return (0..<count).map { String(unsignedField(raw, index: $0, bits: bits)) } }
        return (0..<count).map { String(load(UInt8.self, $0)) }
      }
    }
  }

  /// Element `index` of a densely packed sub-byte array (lowest bits first, as ONNX packs int4,
  /// int2 and float6).
  static func unsignedField(_ raw: UnsafeRawBufferPointer, index: Int, bits: Int) -> UInt8 {
    let bitOffset = index * bits
    let low = UInt16(raw[bitOffset / 8])
    let high = bitOffset / 8 + 1 < raw.count ? UInt16(raw[bitOffset / 8 + 1]) : 0
    return UInt8(truncatingIfNeeded: ((high << 8 | low) >> UInt16(bitOffset % 8)) & UInt16((1 << bits) - 1))
  }

  static func signedField(_ raw: UnsafeRawBufferPointer, index: Int, bits: Int) -> Int8 {
    let value = Int8(unsignedField(raw, index: index, bits: bits))
    return value >= Int8(1 << (bits - 1)) ? value - Int8(1 << bits) : value
  }
}

/// FNV-1a, 64-bit: a fast, stable content hash for elided tensors in printed text.
enum Hash {
  static func fnv1a64(_ data: Data) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    data.withUnsafeBytes { raw in
      for byte in raw {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
      }
    }
    let hex = String(hash, radix: 16)
    return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
  }
}
