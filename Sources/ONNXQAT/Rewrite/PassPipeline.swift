import Foundation

/// Passes run one after another, as a pass of its own (ir-py's `Sequential`). With
/// `untilFixedPoint`, the sequence repeats while any pass changes the model, up to
/// `maximumRounds` times.
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
    for _ in 0..<(untilFixedPoint ? maximumRounds : 1) {
      var modifiedThisRound = false
      for pass in passes {
        let result = try pass.run(model, log: log)
        log.recordPass(pass.name, modified: result.modified)
        modifiedThisRound = modifiedThisRound || result.modified
      }
      modifiedAtAll = modifiedAtAll || modifiedThisRound
      if !modifiedThisRound { break }
    }
    return PassResult(model: model, modified: modifiedAtAll)
  }
}
