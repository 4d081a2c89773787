import Foundation
import XCTest

@testable import ONNXQAT

/// `PassPipeline` skips a pass whose last run converged while no pass has changed the model since
/// (`PassResult.converged`), and records it as a run without change: the model and the log come
/// out exactly as when every pass runs every round.
final class PassPipelineConvergenceTests: XCTestCase {
  /// Runs `inner` and counts the runs; passes its convergence on only when `trusted`.
  final class CountingPass: ModelPass {
    let inner: ModelPass
    let trusted: Bool
    private(set) var runs = 0
    var name: String { inner.name }

    init(_ inner: ModelPass, trusted: Bool) {
      self.inner = inner
      self.trusted = trusted
    }

    func run(_ model: Model, log: RewriteLog) throws -> PassResult {
      runs += 1
      let result = try inner.run(model, log: log)
      return PassResult(model: model, modified: result.modified, converged: trusted && result.converged)
    }
  }

  /// Conv -> BatchNormalization (folded by the rule set) whose bias is a constant Add (folded by
  /// fold-constants), and a dead Relu (removed by eliminate-dead-nodes).
  private func model() throws -> Model {
    var numbers = BatchNormTestSupport.Numbers(seed: 11)
    let text = """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1,2,3,3] x) => (float[1,2,3,3] y) <\(numbers.initializer("w", [2, 2, 1, 1])), \
      \(numbers.initializer("b0", [2])), \(numbers.batchNorm("bn", channels: 2))> {
        b = Add(b0, b0)
        c = Conv(x, w, b)
        y = BatchNormalization(c, \(BatchNormTestSupport.parameters("bn")))
        dead = Relu(x)
      }
      """
    return try RewriteTestSupport.model(text)
  }

  /// The fold pipeline's passes, each counted.
  private func countedFoldPasses(trusted: Bool) -> [CountingPass] {
    Folding.passes.map { CountingPass($0, trusted: trusted) }
  }

  func testConvergedPassesAreNotRerunAndTheResultIsTheSame() throws {
    let skipping = try model()
    let skippingLog = RewriteLog()
    let skippingPasses = countedFoldPasses(trusted: true)
    let skippingResult = try PassPipeline(name: "fold", passes: skippingPasses, untilFixedPoint: true)
      .run(skipping, log: skippingLog)

    let everyRound = try model()
    let everyRoundLog = RewriteLog()
    let everyRoundPasses = countedFoldPasses(trusted: false)
    let everyRoundResult = try PassPipeline(name: "fold", passes: everyRoundPasses, untilFixedPoint: true)
      .run(everyRound, log: everyRoundLog)

    // Round 1: fold-constants folds the Add, the rule set folds the BatchNormalization,
    // eliminate-dead-nodes removes the Relu and the unused initializers. Round 2 confirms the
    // fixed point: without skipping every pass runs again.
    XCTAssertTrue(everyRoundResult.modified)
    XCTAssertEqual(everyRoundPasses.map(\.runs), [2, 2, 2, 2])
    // With skipping, round 2 runs fold-constants (it folded in round 1, so it does not vouch),
    // the rule set (it converged, but eliminate-dead-nodes changed the model after it) and
    // eliminate-dead-nodes (it changed the model); merge-duplicate-initializers found nothing in
    // round 1 and nothing changed since, so it is recorded without running.
    XCTAssertTrue(skippingResult.modified)
    XCTAssertEqual(skippingPasses.map(\.runs), [2, 2, 2, 1])
    XCTAssertEqual(skippingPasses.map(\.name), everyRoundPasses.map(\.name))

    XCTAssertEqual(skippingLog.snapshot, everyRoundLog.snapshot)
    XCTAssertEqual(skippingLog.passes.count, 8)
    XCTAssertEqual(try ModelSaver.serialize(skipping), try ModelSaver.serialize(everyRound))
    XCTAssertEqual(skipping.graph.nodes.map(\.opType), ["Conv"])
  }

  func testAPassThatDoesNotVouchRunsEveryRound() throws {
    let target = try model()
    let log = RewriteLog()
    let folding = CountingPass(FoldConstants(), trusted: true)
    let rules = CountingPass(RuleSet(name: "fold-graph-rules", rules: BatchNormRules.all), trusted: false)
    _ = try PassPipeline(name: "p", passes: [folding, rules], untilFixedPoint: true).run(target, log: log)
    // Round 1: both change the model. Round 2: fold-constants runs (the rule set changed the
    // model after it), the rule set runs (it does not vouch), neither changes anything.
    XCTAssertEqual(folding.runs, 2)
    XCTAssertEqual(rules.runs, 2)
    XCTAssertEqual(log.passes.map(\.modified), [true, true, false, false])
  }

  func testRuleSetConvergesOnlyWhenItsLastRoundFiredNothing() throws {
    let converging = try model()
    let result = try RuleSet(name: "r", rules: BatchNormRules.all).run(converging, log: RewriteLog())
    XCTAssertTrue(result.modified)
    XCTAssertTrue(result.converged)

    let cut = try model()
    let stopped = try RuleSet(name: "r", rules: BatchNormRules.all, maximumRounds: 1).run(cut, log: RewriteLog())
    XCTAssertTrue(stopped.modified)
    XCTAssertFalse(stopped.converged, "stopped by maximumRounds right after a firing")
  }
}
