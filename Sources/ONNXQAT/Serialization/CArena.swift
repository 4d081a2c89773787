import Foundation
import ONNXProto

/// Owns the C memory of a protobuf-c message tree built for packing: structs, strings, arrays.
/// Large payloads are not copied: the arena keeps their `Data` alive and points at its bytes.
final class CArena {
  private var blocks: [UnsafeMutableRawPointer] = []
  private var retained: [Data] = []
  private var cleanups: [() -> Void] = []
  /// Payloads at least this large are shared rather than copied.
  private let shareThreshold = 4096

  deinit {
    for block in blocks { free(block) }
    for cleanup in cleanups { cleanup() }
  }

  /// Runs `cleanup` when the arena is freed (for memory that protobuf-c allocated itself).
  func adopt(_ cleanup: @escaping () -> Void) { cleanups.append(cleanup) }

  private func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
    // calloc never returns nil for a non-zero size on Linux short of exhaustion; trap then,
    // as Swift's own allocator does.
    guard let block = calloc(1, max(bytes, 1)) else { fatalError("out of memory (\(bytes) bytes)") }
    blocks.append(block)
    return block
  }

  /// A zeroed `T` initialized by protobuf-c's `*_init` function.
  func message<T>(_ type: T.Type, _ initialize: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
    let pointer = allocate(MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: 1)
    initialize(pointer)
    return pointer
  }

  func string(_ string: String?) -> UnsafeMutablePointer<CChar>? {
    guard let string else { return nil }
    let utf8 = Array(string.utf8)
    let pointer = allocate(utf8.count + 1).bindMemory(to: CChar.self, capacity: utf8.count + 1)
    utf8.withUnsafeBufferPointer { source in
      if let base = source.baseAddress {
        UnsafeMutableRawPointer(pointer).copyMemory(from: base, byteCount: utf8.count)
      }
    }
    return pointer
  }

  /// A C array of `items` (nil when empty, as protobuf-c expects).
  func array<T>(_ items: [T]) -> UnsafeMutablePointer<T>? {
    guard !items.isEmpty else { return nil }
    let pointer = allocate(MemoryLayout<T>.stride * items.count).bindMemory(to: T.self, capacity: items.count)
    pointer.initialize(from: items, count: items.count)
    return pointer
  }

  /// A C array of optional pointers, the form protobuf-c uses for repeated messages and strings.
  func pointers<T>(_ items: [UnsafeMutablePointer<T>]) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?>? {
    array(items.map { Optional($0) })
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
