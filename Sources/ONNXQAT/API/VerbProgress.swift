import Foundation

/// Where a verb is: its stage, and within a stage that reads samples, how many it has done out
/// of how many (nil when the source does not know).
public struct VerbProgress: Sendable, Equatable {
  /// The stages a session reports, in the order a fold -> insert -> lower -> verify run meets them.
  public enum Stage: String, Sendable, CaseIterable {
    case load, fold, calibrate, insert, lower, verify, save
  }

  /// The stage.
  public var stage: Stage
  /// Units done in the stage (samples for calibrate and verify; 0 or 1 for the others).
  public var done: Int
  /// Units in the stage, when known.
  public var total: Int?

  /// A progress event.
  public init(stage: Stage, done: Int, total: Int?) {
    self.stage = stage
    self.done = done
    self.total = total
  }
}
