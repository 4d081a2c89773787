import Foundation

/// A thread of its own for `SampleLanes`' second lane, which runs the jobs handed to it one at a
/// time until it is stopped.
///
/// The lane always runs on this one thread (and the first lane on the caller's), so each lane's
/// buffers come from and go back to one malloc arena (glibc gives each thread its own): a lane
/// that moved between worker threads, as it would with `DispatchQueue.concurrentPerform`, left
/// its freed buffers in one arena and took fresh ones from another, and the heaps grew with the
/// number of samples.
final class LaneThread: @unchecked Sendable {
  private let jobReady = DispatchSemaphore(value: 0)
  private let jobDone = DispatchSemaphore(value: 0)
  /// Written by the caller before `jobReady` is signalled, read by the thread after it waits.
  private var job: (() -> Void)?
  private var stopping = false

  /// Starts the thread, named `name`.
  init(name: String) {
    let thread = Thread { [self] in serve() }
    thread.name = name
    thread.start()
  }

  /// Runs `job` on the thread and returns when it has finished, while the caller runs `alongside`.
  func run<Result>(_ job: () -> Void, alongside: () throws -> Result) rethrows -> Result {
    try withoutActuallyEscaping(job) { job in
      self.job = job
      jobReady.signal()
      defer {
        jobDone.wait()
        self.job = nil
      }
      return try alongside()
    }
  }

  /// Ends the thread once it has finished its job (it must not be given another).
  func stop() {
    stopping = true
    jobReady.signal()
  }

  private func serve() {
    while true {
      jobReady.wait()
      if stopping { return }
      job?()
      jobDone.signal()
    }
  }
}
