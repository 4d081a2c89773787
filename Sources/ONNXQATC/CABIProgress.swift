import Foundation
import ONNXQAT

/// `onnxqat_progress_fn`: stage, done, total (-1 when unknown), user pointer; non-zero cancels.
public typealias CABIProgressFunction =
  @convention(c) (UnsafePointer<CChar>?, Int64, Int64, UnsafeMutableRawPointer?) ->
  Int32

/// A session whose progress goes to the caller's C callback; a non-zero return sets the
/// session's cancellation flag. The callback runs on the calling thread (the verbs run there),
/// so the user pointer is only touched where the caller gave it.
struct CABIProgress: @unchecked Sendable {
  let function: CABIProgressFunction?
  let user: UnsafeMutableRawPointer?

  /// A fresh session for one call.
  func session() -> ONNXQATSession {
    let flag = CancellationFlag()
    guard function != nil else { return ONNXQATSession(cancellation: flag) }
    return ONNXQATSession(progress: { self.forward($0, flag: flag) }, cancellation: flag)
  }

  private func forward(_ event: VerbProgress, flag: CancellationFlag) {
    guard let function else { return }
    let total = Int64(event.total ?? -1)
    let answer = event.stage.rawValue.withCString { function($0, Int64(event.done), total, user) }
    if answer != 0 { flag.cancel() }
  }
}
