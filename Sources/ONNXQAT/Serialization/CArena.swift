import Foundation
import ONNXProto

/// Owns the C memory of a protobuf-c message tree built for packing: structs, strings, arrays,
/// drawn from a `BumpAllocator` and freed together. Large payloads are not copied: the arena
/// keeps their `Data` alive and points at its bytes.
final class CArena {
  private let memory = BumpAllocator()
  private var retained: [Data] = []
  private var cleanups: [() -> Void] = []
  /// Payloads at least this large are shared rather than copied.
  private let shareThreshold = 4096

  deinit {
    for cleanup in cleanups { cleanup() }
  }

  /// Runs `cleanup` when the arena is freed (for memory that protobuf-c allocated itself).
  func adopt(_ cleanup: @escaping () -> Void) { cleanups.append(cleanup) }

  private func allocate(_ bytes: Int) -> UnsafeMutableRawPointer { memory.allocate(bytes) }

  /// A zeroed `T` initialized by protobuf-c's `*_init` function.
  func message<T>(_ type: T.Type, _ initialize: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
    let pointer = allocate(MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: 1)
    initialize(pointer)
    return pointer
  }

  /// `string` as a NUL-terminated C string (nil for nil).
  func string(_ string: String?) -> UnsafeMutablePointer<CChar>? {
    guard var string else { return nil }
    // Native strings hold contiguous UTF-8 already; others (bridged) are made native once.
    if string.utf8.withContiguousStorageIfAvailable({ _ in () }) == nil { string.makeContiguousUTF8() }
    return string.utf8.withContiguousStorageIfAvailable { utf8 in
      let block = allocate(utf8.count + 1)
      if let base = utf8.baseAddress { block.copyMemory(from: base, byteCount: utf8.count) }
      block.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
      return block.bindMemory(to: CChar.self, capacity: utf8.count + 1)
    }
  }

  /// A C array of `items` (nil when empty, as protobuf-c expects).
  func array<T>(_ items: [T]) -> UnsafeMutablePointer<T>? {
    guard !items.isEmpty else { return nil }
    let pointer = allocate(MemoryLayout<T>.stride * items.count).bindMemory(to: T.self, capacity: items.count)
    pointer.initialize(from: items, count: items.count)
    return pointer
  }

  /// A C array of `count` elements made by `element(index)` (nil when empty), built in place.
  func array<T>(count: Int, _ element: (Int) throws -> T) rethrows -> UnsafeMutablePointer<T>? {
    guard count > 0 else { return nil }
    let pointer = allocate(MemoryLayout<T>.stride * count).bindMemory(to: T.self, capacity: count)
    for index in 0..<count { (pointer + index).initialize(to: try element(index)) }
    return pointer
  }

  /// A C array of optional pointers, the form protobuf-c uses for repeated messages and strings.
  func pointers<T>(_ items: [UnsafeMutablePointer<T>]) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?>? {
    array(count: items.count) { Optional(items[$0]) }
  }

  /// The bytes of `data` as C memory: copied when small, shared (and kept alive) when large.
  func bytes(_ data: Data) -> UnsafeMutablePointer<UInt8>? {
    guard !data.isEmpty else { return nil }
    if data.count >= shareThreshold {
      retained.append(data)
      let base = data.withUnsafeBytes { $0.baseAddress }
      return UnsafeMutablePointer(mutating: base?.assumingMemoryBound(to: UInt8.self))
    }
    let pointer = allocate(data.count).bindMemory(to: UInt8.self, capacity: data.count)
    data.copyBytes(to: pointer, count: data.count)
    return pointer
  }

  func binary(_ data: Data) -> ProtobufCBinaryData {
    ProtobufCBinaryData(len: data.count, data: bytes(data))
  }

  /// A typed C array viewing the bytes of `data` (which holds native little-endian elements).
  func typed<T>(_ data: Data, as: T.Type) -> (Int, UnsafeMutablePointer<T>?) {
    let count = data.count / MemoryLayout<T>.stride
    guard count > 0 else { return (0, nil) }
    let raw = bytes(data)
    return (count, raw.map { UnsafeMutableRawPointer($0).bindMemory(to: T.self, capacity: count) })
  }
}
