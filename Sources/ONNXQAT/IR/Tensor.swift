import Foundation

/// A constant tensor (ONNX `TensorProto`). Every field of the message is kept as it was read,
/// so an untouched tensor saves to the same bytes; payloads are `Data` values that share the
/// loader's buffers (or a mapped external file) instead of copying them.
public struct Tensor: Hashable, @unchecked Sendable {
  /// Where the payload lives (`TensorProto.DataLocation`).
  public enum DataLocation: Int32, Sendable {
    case defaultLocation = 0
    case external = 1
  }

  /// `TensorProto.Segment`, for tensors split across several protos.
  public struct Segment: Hashable, Sendable {
    public var begin: Int64?
    public var end: Int64?
    public var extras = WireExtras()
    public init(begin: Int64?, end: Int64?) {
      self.begin = begin
      self.end = end
    }
  }

  public var name: String?
  public var dataType: DataType?
  public var dims: [Int64]
  public var segment: Segment?
  public var docString: String?
  /// `raw_data`: little-endian, fixed width (sub-byte types packed two or four per byte).
  public var rawData: Data?
  /// The typed repeated fields, each as the bytes of its native little-endian array.
  public var floatData = Data()
  public var int32Data = Data()
  public var int64Data = Data()
  public var doubleData = Data()
  public var uint64Data = Data()
  public var stringData: [Data] = []
  public var externalData: [StringPair] = []
  public var dataLocation: DataLocation?
  /// Bytes of an external tensor, mapped from its file at load time (not serialized).
  public var externalBytes: Data?
  public var extras = WireExtras()

  public init(name: String?, dataType: DataType, dims: [Int64], rawData: Data? = nil) {
    self.name = name
    self.dataType = dataType
    self.dims = dims
    self.rawData = rawData
  }

  public var elementType: DataType { dataType ?? .undefined }

  /// Number of elements: the product of `dims` (1 for a scalar). Saturates at `Int.max` and
  /// counts negative dimensions as 0, so a hostile tensor cannot trap; the loader refuses both.
  public var elementCount: Int {
    var count = 1
    for dim in dims {
      guard dim >= 0 else { return 0 }
      let (product, overflow) = count.multipliedReportingOverflow(by: Int(clamping: dim))
      if overflow { return Int.max }
      count = product
    }
    return count
  }

  /// Why `dims` cannot describe a tensor in memory (a negative size, or more bytes than a
  /// 64-bit address space holds), or nil when they can.
  public var dimsProblem: String? {
    if let negative = dims.first(where: { $0 < 0 }) { return "dimension \(negative) in \(dims) is negative" }
    var bits = max(elementType.bitWidth ?? 8, 8)
    for dim in dims {
      let (product, overflow) = bits.multipliedReportingOverflow(by: Int(clamping: dim))
      if overflow || product > Int.max / 2 { return "dims \(dims) describe more elements than memory can hold" }
      bits = product
    }
    return nil
  }

  /// Number of bytes the payload occupies in `raw_data` form; nil for strings and unknown types.
  public var rawByteCount: Int? {
    guard let bits = elementType.bitWidth else { return nil }
    return (elementCount * bits + 7) / 8
  }

  public var isExternal: Bool { dataLocation == .external }

  /// The value of an `external_data` key ("location", "offset", "length", "checksum").
  public func externalValue(_ key: String) -> String? {
    externalData.first { $0.key == key }?.value
  }

  /// The payload as `raw_data` bytes, whichever field holds it (typed fields are converted).
  /// Nil for string tensors and for external tensors whose file was not mapped.
  public func payloadBytes() -> Data? {
    if isExternal { return externalBytes }
    if let rawData { return rawData }
    switch elementType {
    case .float, .complex64: return floatData
    case .double, .complex128: return doubleData
    case .int64: return int64Data
    case .uint64, .uint32: return uint64Data.isEmpty ? Data() : narrowUInt64(to: elementType)
    case .string, .undefined: return nil
    default: return int32Data.isEmpty ? Data() : narrowInt32(to: elementType)
    }
  }

  private func narrowUInt64(to type: DataType) -> Data {
    let values = uint64Data.withUnsafeBytes { Array($0.bindMemory(to: UInt64.self)) }
    if type == .uint64 { return uint64Data }
    return values.map { UInt32(truncatingIfNeeded: $0) }.withUnsafeBytes { Data($0) }
  }

  /// `int32_data` stores one element per int32; sub-byte types store one packed byte per int32
  /// (int4, int2), though some writers (onnx.parser, float6) store one element per int32: those
  /// are packed here, lowest bits first.
  private func narrowInt32(to type: DataType) -> Data {
    let values = int32Data.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
    switch type.bitWidth {
    case 32: return int32Data
    case 16: return values.map { UInt16(truncatingIfNeeded: $0) }.withUnsafeBytes { Data($0) }
    case let bits? where bits < 8 && values.count == elementCount && values.count > (rawByteCount ?? 0):
      var packed = [UInt8](repeating: 0, count: rawByteCount ?? 0)
      for (index, value) in values.enumerated() {
        let bit = index * bits
        let field = UInt16(UInt32(bitPattern: value) & UInt32((1 << bits) - 1)) << UInt16(bit % 8)
        packed[bit / 8] |= UInt8(truncatingIfNeeded: field)
        if bit / 8 + 1 < packed.count { packed[bit / 8 + 1] |= UInt8(truncatingIfNeeded: field >> 8) }
      }
      return Data(packed)
    default: return Data(values.map { UInt8(truncatingIfNeeded: $0) })
    }
  }

  /// Payload size in bytes as stored in this proto (for statistics and the external-data threshold).
  public var storedByteCount: Int {
    if isExternal { return Int(externalValue("length") ?? "") ?? externalBytes?.count ?? 0 }
    return (rawData?.count ?? 0) + floatData.count + int32Data.count + int64Data.count
      + doubleData.count + uint64Data.count + stringData.reduce(0) { $0 + $1.count }
  }
}

/// A sparse constant (ONNX `SparseTensorProto`): values, their indices, and the dense shape.
public struct SparseTensor: Hashable, @unchecked Sendable {
  public var values: Tensor?
  public var indices: Tensor?
  public var dims: [Int64]
  public var extras = WireExtras()

  public init(values: Tensor?, indices: Tensor?, dims: [Int64]) {
    self.values = values
    self.indices = indices
    self.dims = dims
  }

  /// The sparse tensor's name is its values' name.
  public var name: String { values?.name ?? "" }
}
