import Foundation

/// Activation buffers an Interpreter's runs have finished with, kept by byte size and handed to
/// the next tensor a kernel makes that fits (the smallest buffer at least its size, and at most
/// `largestRatio` times it), so that a run stops mapping (and zeroing,
/// and faulting in) fresh pages for every intermediate: large buffers come from mmap in glibc,
/// and every free of one unmaps it.
///
/// Safety: the interpreter gives a buffer back only when the slot of its value is released (its
/// last use in the plan; never a graph output) and `isKnownUniquelyReferenced` says nothing
/// else holds it (no other value sharing it through Identity, Reshape or a subgraph's output,
/// no ConstantCache entry, no copy kept by an observer, not a caller's input tensor).
///
/// Bound: the pool holds at most `bound` bytes: `limit` (the interpreter sets it to the largest
/// live set of its runs so far) or the most bytes its runs had lent at once, if more, so a
/// run's activations plus the pool stay within twice the largest live set. A buffer that does
/// not fit is freed, unless freeing smaller pooled buffers makes room (so the pool settles on
/// the larger sizes, which serve the most requests). Buffers under `minimumBytes` are left to
/// malloc.
///
/// Buffers a run drops without releasing them through a slot come back too: `take` remembers
/// each buffer it hands out until `give` gets it back, and `reclaim` pools those nothing else
/// holds any more. The interpreter reclaims after each step of an observed run (the steps fused
/// from several nodes then run them one by one and drop each intermediate, which would otherwise
/// be freed and made afresh in every run: a malloc and a free of the same size per fused step and
/// sample, with overlapping lifetimes, which fragmented the heap until the process's peak memory
/// grew with the number of calibration samples) and at the end of every run.
///
/// The pool in use is per thread (`current`), set by the interpreter around each run: kernels
/// make tensors through `HostTensor`'s initializers without knowing about it; a tensor made on
/// another thread (inside a kernel's worker) gets a fresh buffer.
final class BufferPool {
  /// Buffers smaller than this (4 KiB) are not pooled.
  static let minimumBytes = 4096
  /// A tensor takes a pooled buffer up to this many times its size (a CNN's tensors shrink by 4
  /// at each stride-2 stage; the pages are resident already, and a tensor of the larger size
  /// would otherwise wait in the pool for a size that may not come).
  static let largestRatio = 4
  /// The most bytes the pool keeps.
  var limit: Int
  /// The pooled buffers, by increasing byte count.
  private var free: [TensorBuffer] = []
  /// Bytes in the pool now.
  private(set) var pooledBytes = 0
  /// Buffers handed out again, and their bytes (for tests and benchmarks).
  private(set) var reusedCount = 0
  private(set) var reusedBytes = 0
  /// Requests of at least `minimumBytes` the pool had no buffer for (for tests).
  private(set) var missedCount = 0
  /// Buffers taken back by `reclaim` (for tests).
  private(set) var reclaimedCount = 0
  /// Buffers handed out by `take` and not given back yet, by identity, and their bytes.
  private var lent: [ObjectIdentifier: TensorBuffer] = [:]
  private var lentBytes = 0
  /// The most bytes lent at once so far: the run's pooled-size tensors made on this thread (from
  /// the pool or after a miss), those inside fused steps (which the interpreter's slots never
  /// see) included; a tensor made after a miss and dropped unreleased counts until the run ends.
  private(set) var largestLentBytes = 0

  /// The most bytes the pool keeps: `limit`, or more when runs had more lent at once.
  var bound: Int { max(limit, largestLentBytes) }

  init(limit: Int) { self.limit = limit }

  /// The smallest pooled buffer of at least `byteCount` bytes and at most `largestRatio` times
  /// that (its contents are stale; the pool follows it until it comes back), or nil (then the
  /// caller makes a buffer of `byteCount` bytes, counted as lent until it comes back or the run
  /// ends).
  func take(byteCount: Int) -> TensorBuffer? {
    guard byteCount >= Self.minimumBytes else { return nil }
    guard let index = free.firstIndex(where: { $0.byteCount >= byteCount }),
      free[index].byteCount <= Self.largestRatio * byteCount
    else {
      missedCount += 1
      lend(byteCount)
      return nil
    }
    let buffer = free.remove(at: index)
    pooledBytes -= buffer.byteCount
    reusedCount += 1
    reusedBytes += buffer.byteCount
    lent[ObjectIdentifier(buffer)] = buffer
    lend(buffer.byteCount)
    return buffer
  }

  private func lend(_ bytes: Int) {
    lentBytes += bytes
    largestLentBytes = max(largestLentBytes, lentBytes)
  }

  /// Keeps `buffer` (which the caller holds the only reference to) when it is large enough and
  /// fits under the bound, making room by freeing smaller pooled buffers if that is enough (a
  /// larger buffer serves more sizes); otherwise lets it go.
  func give(_ buffer: TensorBuffer) {
    lent[ObjectIdentifier(buffer)] = nil
    // Lent by `take` or made after a miss (a buffer made elsewhere was not counted: hence max).
    lentBytes = max(0, lentBytes - buffer.byteCount)
    let limit = bound
    let size = buffer.byteCount
    guard size >= Self.minimumBytes, buffer.strings == nil, size <= limit else { return }
    var evicted = 0
    var freeable = 0
    while pooledBytes - freeable + size > limit, evicted < free.count, free[evicted].byteCount < size {
      freeable += free[evicted].byteCount
      evicted += 1
    }
    guard pooledBytes - freeable + size <= limit else { return }
    free.removeFirst(evicted)
    pooledBytes -= freeable
    free.insert(buffer, at: free.firstIndex { $0.byteCount >= size } ?? free.count)
    pooledBytes += size
  }

  /// Frees every pooled buffer (the interpreter will not run again soon).
  func empty() {
    free.removeAll()
    pooledBytes = 0
  }

  /// Gives `buffer` back (`give`) when the caller's reference, emptied here, is the only one
  /// besides the pool's record of it; otherwise the pool keeps following it (`reclaim`).
  func release(_ buffer: inout TensorBuffer?) {
    guard let key = buffer.map(ObjectIdentifier.init) else { return }
    let followed = lent.removeValue(forKey: key) != nil
    if isKnownUniquelyReferenced(&buffer), let unused = buffer {
      buffer = nil
      give(unused)
    } else if followed, let shared = buffer {
      lent[key] = shared
    }
    buffer = nil
  }

  /// Gives back (`give`) each buffer handed out by `take` that only the pool still holds; with
  /// `endOfRun`, stops following the others (graph outputs, cached constants: their holders free
  /// them).
  func reclaim(endOfRun: Bool) {
    guard !lent.isEmpty else { return }
    var unused: [TensorBuffer] = []
    var index = lent.values.startIndex
    while index != lent.values.endIndex {
      // Checked in place: a copy would be a second reference.
      if isKnownUniquelyReferenced(&lent.values[index]) { unused.append(lent.values[index]) }
      lent.values.formIndex(after: &index)
    }
    if endOfRun {
      lent.removeAll(keepingCapacity: true)
      lentBytes = 0
    }
    for buffer in unused {
      reclaimedCount += 1
      give(buffer)
    }
  }

  // MARK: The pool of the current thread

  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  /// The pool tensors made on this thread draw from (nil outside an interpreter run).
  static var current: BufferPool? {
    guard let raw = pthread_getspecific(key) else { return nil }
    return Unmanaged<BufferPool>.fromOpaque(raw).takeUnretainedValue()
  }

  /// Runs `body` with `pool` as this thread's pool (the caller keeps `pool` alive), then puts
  /// back the previous one.
  static func using<Result>(_ pool: BufferPool?, _ body: () throws -> Result) rethrows -> Result {
    let previous = pthread_getspecific(key)
    pthread_setspecific(key, pool.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) })
    defer { pthread_setspecific(key, previous) }
    return try body()
  }
}
