import Foundation
import Synchronization

/// A thread-safe flag that asks a running verb to stop. Set it from any thread; the verb checks
/// it between stages (load, fold, insert, lower, save) and between calibration and verification
/// samples, and then throws `ONNXQATError.cancelled`. Swift task cancellation is honoured at the
/// same points.
public final class CancellationFlag: Sendable {
  private let state = Atomic<Bool>(false)

  /// A flag that is not set.
  public init() {}

  /// Asks the verb to stop at its next check.
  public func cancel() { state.store(true, ordering: .releasing) }

  /// True once `cancel()` was called.
  public var isCancelled: Bool { state.load(ordering: .acquiring) }
}
