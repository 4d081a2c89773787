import CIntegerKernels
import Dispatch

/// The kernels' parallel loops: `perform(iterations:execute:)` runs `body(0) ... body(n - 1)` on
/// the calling thread and the persistent workers of `qat_pool_run` (worker_pool.c), which stay
/// awake for a moment between loops, so the many short loops of one run do not each pay for
/// waking threads. When the pool is busy with another thread's loop (a second sample lane, or a
/// loop inside a loop) the iterations go to `DispatchQueue.concurrentPerform` as before.
///
/// Like `concurrentPerform`, it promises nothing about which iterations run at the same time;
/// every body must work whatever the split.
enum ParallelWork {
  static func perform(iterations: Int, execute body: (Int) -> Void) {
    if iterations <= 1 {
      if iterations == 1 { body(0) }
      return
    }
    let ran = withoutActuallyEscaping(body) { escapable -> Bool in
      var closure = escapable
      return withUnsafeMutablePointer(to: &closure) { pointer in
        qat_pool_run(Int32(iterations), runItem, UnsafeMutableRawPointer(pointer)) != 0
      }
    }
    if !ran { DispatchQueue.concurrentPerform(iterations: iterations, execute: body) }
  }
}

/// The pool's C entry for one item: `context` points at the Swift closure.
private func runItem(_ context: UnsafeMutableRawPointer?, _ index: Int32) {
  guard let context else { return }
  context.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(index))
}
