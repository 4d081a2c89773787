import Foundation

/// A tensor in memory while a graph runs: element type, shape, and a buffer of elements in
/// their natural Swift representation. Sub-byte types (int4, uint4, int2, uint2, float4e2m1,
/// float6) hold one element per byte, unpacked; float16, bfloat16 and the float8 types hold
/// their bit patterns (`UInt16`, `UInt8`); bool is one byte, 0 or 1.
public struct HostTensor: @unchecked Sendable {
  public let dataType: DataType
  public let shape: [Int]
  let buffer: TensorBuffer

  /// A zero-filled tensor.
  public init(zeros dataType: DataType, shape: [Int]) {
    self.dataType = dataType
    self.shape = shape
    let count = shape.reduce(1, *)
    if dataType == .string {
      buffer = TensorBuffer(strings: Array(repeating: "", count: count))
    } else {
      buffer = TensorBuffer.make(byteCount: count * dataType.storageStride, zeroed: true)
    }
  }

  /// A tensor whose elements are not initialized, for kernels that write every element
  /// (numeric types only; a string tensor is made empty as with `init(zeros:shape:)`).
  init(uninitialized dataType: DataType, shape: [Int]) {
    if dataType == .string {
      self.init(zeros: dataType, shape: shape)
    } else {
      let buffer = TensorBuffer.make(byteCount: shape.reduce(1, *) * dataType.storageStride, zeroed: false)
      self.init(dataType: dataType, shape: shape, buffer: buffer)
    }
  }

  init(dataType: DataType, shape: [Int], buffer: TensorBuffer) {
    self.dataType = dataType
    self.shape = shape
    self.buffer = buffer
  }

  /// A tensor of `T` elements (T must be the storage type of `dataType`).
  public init<T>(_ dataType: DataType, shape: [Int], values: [T]) {
    precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
    precondition(MemoryLayout<T>.stride == dataType.storageStride, "\(T.self) does not store \(dataType.name)")
    self.init(zeros: dataType, shape: shape)
    values.withUnsafeBytes { source in
      if let base = source.baseAddress { buffer.raw.copyMemory(from: base, byteCount: source.count) }
    }
  }

  public init(strings: [String], shape: [Int]) {
    dataType = .string
    self.shape = shape
    buffer = TensorBuffer(strings: strings)
  }

  public static func scalar(_ value: Float) -> HostTensor { HostTensor(.float, shape: [], values: [value]) }
  public static func scalar(_ value: Int64) -> HostTensor { HostTensor(.int64, shape: [], values: [value]) }

  public var count: Int { shape.reduce(1, *) }
  public var rank: Int { shape.count }

  /// The elements, typed. Valid only while this tensor (or a copy sharing its buffer) is alive:
  /// bind the tensor to a name first; `makeTensor().pointer(Float.self)[0]` reads freed memory.
  public func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> {
    buffer.raw.assumingMemoryBound(to: T.self)
  }

  /// The elements as an array.
  public func values<T>(_: T.Type) -> [T] {
    Array(UnsafeBufferPointer(start: pointer(T.self), count: count))
  }

  /// String elements (string tensors only).
  public var strings: [String] { buffer.strings ?? [] }

  /// The same elements seen with another shape (no copy).
  public func reshaped(_ newShape: [Int]) -> HostTensor {
    HostTensor(dataType: dataType, shape: newShape, buffer: buffer)
  }

  /// A copy of the elements in a buffer of its own.
  public func copy() -> HostTensor {
    if dataType == .string { return HostTensor(strings: strings, shape: shape) }
    let result = HostTensor(uninitialized: dataType, shape: shape)
    result.buffer.raw.copyMemory(from: buffer.raw, byteCount: count * dataType.storageStride)
    return result
  }

  /// Every element converted to Double (numeric and bool tensors; float16, bfloat16 and
  /// float8 decoded from their bits).
  public func doubles() -> [Double] {
    (0..<count).map { element(at: $0) }
  }

  /// Element `index` (flat) as Double.
  public func element(at index: Int) -> Double {
    let raw = buffer.raw
    switch dataType {
    case .float: return Double(raw.load(fromByteOffset: index * 4, as: Float.self))
    case .double: return raw.load(fromByteOffset: index * 8, as: Double.self)
    case .int8, .int4, .int2: return Double(raw.load(fromByteOffset: index, as: Int8.self))
    case .uint8, .uint4, .uint2, .bool: return Double(raw.load(fromByteOffset: index, as: UInt8.self))
    case .int16: return Double(raw.load(fromByteOffset: index * 2, as: Int16.self))
    case .uint16: return Double(raw.load(fromByteOffset: index * 2, as: UInt16.self))
    case .int32: return Double(raw.load(fromByteOffset: index * 4, as: Int32.self))
    case .uint32: return Double(raw.load(fromByteOffset: index * 4, as: UInt32.self))
    case .int64: return Double(raw.load(fromByteOffset: index * 8, as: Int64.self))
    case .uint64: return Double(raw.load(fromByteOffset: index * 8, as: UInt64.self))
    case .float16: return Double(FloatBits.float16ToFloat(raw.load(fromByteOffset: index * 2, as: UInt16.self)))
    case .bfloat16: return Double(FloatBits.bfloat16ToFloat(raw.load(fromByteOffset: index * 2, as: UInt16.self)))
    default:
      if let decode = FloatBits.decoder(for: dataType) {
        return Double(decode(raw.load(fromByteOffset: index, as: UInt8.self)))
      }
      return .nan
    }
  }

  /// A short description for messages: `float[1,3,224,224]`.
  public var typeDescription: String { "\(dataType.name)[\(shape.map(String.init).joined(separator: ","))]" }
}

/// Memory of a `HostTensor`: 64-byte aligned, zero-filled on allocation unless the owner
/// writes every element itself (`zeroed: false`). During an interpreter run, tensors made through
/// `HostTensor`'s initializers may get a buffer an earlier intermediate of the run no longer
/// needs (BufferPool).
final class TensorBuffer {
  let raw: UnsafeMutableRawPointer
  let byteCount: Int
  let strings: [String]?

  init(byteCount: Int, zeroed: Bool = true) {
    self.byteCount = byteCount
    raw = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
    if zeroed {
      raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
    } else {
      raw.initializeMemory(as: UInt8.self, repeating: 0, count: 1)
    }
    strings = nil
  }

  /// A buffer of `byteCount` bytes from the current thread's BufferPool when it holds one of
  /// that size (zero-filled here if `zeroed`), otherwise a new one.
  static func make(byteCount: Int, zeroed: Bool) -> TensorBuffer {
    if let reused = BufferPool.current?.take(byteCount: byteCount) {
      if zeroed { reused.raw.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount) }
      return reused
    }
    return TensorBuffer(byteCount: byteCount, zeroed: zeroed)
  }

  init(strings: [String]) {
    byteCount = 0
    raw = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
    self.strings = strings
  }

  deinit { raw.deallocate() }
}

extension DataType {
  /// Bytes per element in a `HostTensor` (sub-byte types are unpacked to one byte).
  public var storageStride: Int {
    switch self {
    case .string, .undefined: return 0
    case .complex64: return 8
    case .complex128: return 16
    default:
      guard let bits = bitWidth else { return 1 }
      return max(1, bits / 8)
    }
  }

  public var isInteger: Bool {
    [.int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64, .int4, .uint4, .int2, .uint2].contains(self)
  }

  public var isSigned: Bool { [.int8, .int16, .int32, .int64, .int4, .int2].contains(self) }
}
