import CIntegerKernels
import Dispatch
import Foundation
import XCTest

@testable import ONNXQAT

/// `ParallelWork.perform` over the persistent worker pool: every index runs exactly once per
/// loop, whether the pool takes the loop or it falls back to `concurrentPerform` (pool busy with
/// another thread's loop, or a loop nested in a loop).
final class ParallelWorkTests: XCTestCase {
  /// Many short loops in a row, as a run's kernels make them: a worker that wakes late, or one
  /// still in the last loop, must never run an index of the new loop twice or run it with the
  /// last loop's body.
  func testEveryIndexRunsOnceOverManyShortLoops() {
    for loop in 0..<20_000 {
      let iterations = 2 + loop % 7
      var counts = [Int](repeating: 0, count: iterations)
      counts.withUnsafeMutableBufferPointer { slots in
        ParallelWork.perform(iterations: iterations) { index in slots[index] += 1 }
      }
      if counts != [Int](repeating: 1, count: iterations) {
        XCTFail("loop \(loop): runs per index \(counts)")
        return
      }
    }
  }

  /// Loops inside loops (the pool is busy with the outer one) and loops from two threads at once
  /// (a second sample lane) fall back, and still run every index once.
  func testNestedAndConcurrentLoopsRunEveryIndexOnce() {
    let outer = 6
    let inner = 5
    let lock = NSLock()
    var seen: [Int: Int] = [:]
    DispatchQueue.concurrentPerform(iterations: 2) { caller in
      for round in 0..<200 {
        ParallelWork.perform(iterations: outer) { i in
          ParallelWork.perform(iterations: inner) { j in
            let key = ((caller * 1000 + round) * outer + i) * inner + j
            lock.lock()
            seen[key, default: 0] += 1
            lock.unlock()
          }
        }
      }
    }
    XCTAssertEqual(seen.count, 2 * 200 * outer * inner)
    XCTAssertEqual(seen.values.filter { $0 != 1 }.count, 0, "indices run more than once")
  }

  /// On a machine with two or more processors the pool has workers and takes loops; each
  /// worker is a persistent thread, so a loop's items run on at most 1 + workers threads.
  func testPoolRunsLoopsOnItsThreads() throws {
    let workers = Int(qat_pool_workers())
    guard workers > 0 else { throw XCTSkip("one processor: the pool has no worker thread") }
    let lock = NSLock()
    var threads = Set<pthread_t>()
    for _ in 0..<2_000 {
      ParallelWork.perform(iterations: 4) { _ in
        let id = pthread_self()
        lock.lock()
        threads.insert(id)
        lock.unlock()
      }
    }
    XCTAssertLessThanOrEqual(threads.count, 1 + workers)
    XCTAssertTrue(threads.contains(pthread_self()))
  }
}
