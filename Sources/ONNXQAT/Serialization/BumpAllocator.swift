import Foundation
import ONNXProto

/// Memory handed out from large chunks by moving a cursor, and freed all at once when the
/// allocator goes: the C structs, strings and arrays of a protobuf message tree, which come and
/// go together. A model of 100,000 nodes is about a million small blocks; one `malloc` and one
/// `free` each (protobuf-c's default) cost more than parsing them.
///
/// Blocks are 16-byte aligned (as `malloc`'s). A block larger than a quarter of a chunk (a tensor
/// payload, say) gets a chunk of its own, which `free` releases at once when asked (protobuf-c
/// frees its scratch arrays for messages of many fields that way); smaller blocks stay until the
/// allocator is freed. The state lives in C memory so that protobuf-c's callbacks touch no
/// reference counts.
final class BumpAllocator {
  /// The cursor and the chunks. Each chunk starts with a `ChunkHeader`.
  private struct State {
    var cursor: UnsafeMutableRawPointer?
    var end: UnsafeMutableRawPointer?
    /// Most recent chunk first.
    var chunks: UnsafeMutablePointer<ChunkHeader>?
    var nextChunkSize: Int
  }

  /// Links the chunks. `marker` is last, just before a chunk's first block: for a chunk holding
  /// one large block it is the chunk's address mixed with `dedicatedMark`, and 0 otherwise, so
  /// `release` can tell such blocks from others without searching.
  private struct ChunkHeader {
    var next: UnsafeMutablePointer<ChunkHeader>?
    var previous: UnsafeMutablePointer<ChunkHeader>?
    var reserved: UInt64 = 0
    var marker: UInt64
  }

  private static let dedicatedMark: UInt64 = 0x6f6e_6e78_7161_7421
  private static let alignment = 16
  private static let headerSize = (MemoryLayout<ChunkHeader>.stride + alignment - 1) / alignment * alignment
  private static let firstChunkSize = 64 << 10
  private static let largestChunkSize = 4 << 20

  private let state: UnsafeMutablePointer<State>

  init() {
    state = .allocate(capacity: 1)
    state.initialize(to: State(cursor: nil, end: nil, chunks: nil, nextChunkSize: Self.firstChunkSize))
  }

  deinit {
    var chunk = state.pointee.chunks
    while let current = chunk {
      chunk = current.pointee.next
      free(current)
    }
    state.deallocate()
  }

  /// The number of chunks held (shared and dedicated), for tests and diagnostics.
  var chunkCount: Int {
    var count = 0
    var chunk = state.pointee.chunks
    while let current = chunk {
      count += 1
      chunk = current.pointee.next
    }
    return count
  }

  /// `bytes` bytes of uninitialized memory, valid until the allocator is freed.
  func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
    Self.allocate(state, bytes)
  }

  /// An allocator for protobuf-c's `*_unpack` that draws from this one. Messages unpacked with
  /// it must not be passed to `*_free_unpacked`: their memory goes with this allocator.
  var protobufAllocator: ProtobufCAllocator {
    ProtobufCAllocator(
      alloc: { data, size in
        guard let data else { return nil }
        return BumpAllocator.allocate(data.assumingMemoryBound(to: State.self), size)
      },
      free: { data, pointer in
        guard let data, let pointer else { return }
        BumpAllocator.release(data.assumingMemoryBound(to: State.self), pointer)
      },
      allocator_data: UnsafeMutableRawPointer(state))
  }

  /// Runs a protobuf-c `*_unpack` call with this allocator (see `protobufAllocator`).
  func unpacking<Message>(_ unpack: (UnsafeMutablePointer<ProtobufCAllocator>) -> Message?) -> Message? {
    var allocator = protobufAllocator
    return unpack(&allocator)
  }

  private static func allocate(_ state: UnsafeMutablePointer<State>, _ bytes: Int) -> UnsafeMutableRawPointer {
    let size = max((bytes + alignment - 1) / alignment * alignment, alignment)
    if let cursor = state.pointee.cursor, let end = state.pointee.end, end - cursor >= size {
      state.pointee.cursor = cursor + size
      return cursor
    }
    if size > state.pointee.nextChunkSize / 4 {
      return newChunk(state, capacity: size, dedicated: true)
    }
    let capacity = state.pointee.nextChunkSize
    state.pointee.nextChunkSize = min(capacity * 2, largestChunkSize)
    let block = newChunk(state, capacity: capacity, dedicated: false)
    state.pointee.cursor = block + size
    state.pointee.end = block + capacity
    return block
  }

  /// A new chunk of `capacity` usable bytes, linked first; returns its first usable byte.
  private static func newChunk(_ state: UnsafeMutablePointer<State>, capacity: Int, dedicated: Bool)
    -> UnsafeMutableRawPointer
  {
    // malloc fails only when memory is exhausted; trap then, as Swift's own allocator does.
    guard let raw = malloc(headerSize + capacity) else { fatalError("out of memory (\(capacity) bytes)") }
    let header = raw.bindMemory(to: ChunkHeader.self, capacity: 1)
    let first = state.pointee.chunks
    let marker = dedicated ? UInt64(UInt(bitPattern: raw)) ^ dedicatedMark : 0
    header.initialize(to: ChunkHeader(next: first, previous: nil, marker: marker))
    first?.pointee.previous = header
    state.pointee.chunks = header
    return raw + headerSize
  }

  /// Frees `pointer` now when it is a block with a chunk of its own; other blocks wait for the
  /// allocator. Every block is preceded by 8 readable bytes of its chunk (the header's marker, or
  /// the end of the block before), which hold the marker only for a dedicated block.
  private static func release(_ state: UnsafeMutablePointer<State>, _ pointer: UnsafeMutableRawPointer) {
    let raw = pointer - headerSize
    let expected = UInt64(UInt(bitPattern: raw)) ^ dedicatedMark
    guard (pointer - 8).loadUnaligned(as: UInt64.self) == expected else { return }
    // The bytes before a small block are data, which could (by a one-in-2^64 chance) look like
    // a marker: free only a chunk that is really on the list.
    var chunk = state.pointee.chunks
    while let current = chunk, UnsafeMutableRawPointer(current) != raw { chunk = current.pointee.next }
    guard let header = chunk else { return }
    let before = header.pointee.previous
    let after = header.pointee.next
    if let before { before.pointee.next = after } else { state.pointee.chunks = after }
    after?.pointee.previous = before
    free(raw)
  }
}
