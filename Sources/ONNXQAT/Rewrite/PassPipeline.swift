import Foundation

/// Passes run one after another, as a pass of its own (ir-py's `Sequential`). With
/// `untilFixedPoint`, the sequence repeats while any pass changes the model, up to
/// `maximumRounds` times.
///
/// A pass whose last run converged (`PassResult.converged`) is not run again while no pass has
/// changed the model since: it would see the same model and change nothing. The log records
/// such a pass as run without change, exactly what running it would record. In the fold
/// pipeline this leaves, of the round that confirms the fixed point, only the passes that ran
/// before the last change (fold-constants); the others saw the final model already.
public struct PassPipeline: ModelPass {
  public let name: String
  public let passes: [ModelPass]
  public let untilFixedPoint: Bool
  public let maximumRounds: Int

  public init(name: String, passes: [ModelPass], untilFixedPoint: Bool = false, maximumRounds: Int = 8) {
    self.name = name
    self.passes = passes
    self.untilFixedPoint = untilFixedPoint
    self.maximumRounds = maximumRounds
  }

  public func run(_ model: Model, log: RewriteLog) throws -> PassResult {
    var modifiedAtAll = false
    // settled[i]: pass i converged when it last ran, and no pass has changed the model since.
    var settled = [Bool](repeating: false, count: passes.count)
    for _ in 0..<(untilFixedPoint ? maximumRounds : 1) {
      var modifiedThisRound = false
      for (index, pass) in passes.enumerated() {
        if settled[index] {
          log.recordPass(pass.name, modified: false)
          continue
        }
        let result = try pass.run(model, log: log)
        log.recordPass(pass.name, modified: result.modified)
        if result.modified {
          settled = [Bool](repeating: false, count: passes.count)
          modifiedThisRound = true
        }
        settled[index] = result.converged
      }
      modifiedAtAll = modifiedAtAll || modifiedThisRound
      if !modifiedThisRound { break }
    }
    return PassResult(model: model, modified: modifiedAtAll)
  }
}
