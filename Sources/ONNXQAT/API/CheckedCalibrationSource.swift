import Foundation

/// A calibration source that checks for cancellation before each sample and reports each
/// sample read, so a session can stop and follow calibration and verification sample by sample.
struct CheckedCalibrationSource: CalibrationSource {
  var base: CalibrationSource
  let stage: VerbProgress.Stage
  let session: ONNXQATSession
  private var done = 0

  init(_ base: CalibrationSource, stage: VerbProgress.Stage, session: ONNXQATSession) {
    self.base = base
    self.stage = stage
    self.session = session
  }

  var sampleCount: Int? { base.sampleCount }

  func checkContinue() throws { try session.checkCancellation(stage) }

  mutating func nextSample() throws -> [String: HostTensor]? {
    try session.checkCancellation(stage)
    guard let sample = try base.nextSample() else { return nil }
    done += 1
    if stage == .verify { session.report(.init(stage: stage, done: done, total: base.sampleCount)) }
    return sample
  }
}
