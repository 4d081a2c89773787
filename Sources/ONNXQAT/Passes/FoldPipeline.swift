import Foundation

/// The `fold` verb as a library call: constant folding, graph rules, dead-node elimination and
/// merging of duplicate initializers, repeated until nothing changes.
///
/// Each round runs FoldConstants (constant subgraphs become initializers), the rules of
/// `graphRules` as one rule set (when there are any), EliminateDeadNodes (what folding left
/// unused goes) and MergeDuplicateInitializers (equal constants share one initializer). A round
/// that changes nothing ends the pipeline. The model is edited in place; when a pass throws,
/// the caller discards it.
public enum Folding {
  /// Local rewrites that run inside the fold pipeline after constant folding, e.g. folding
  /// BatchNormalization into a preceding Conv (BatchNormRules, decomposition last).
  public static var graphRules: [RewriteRule] { BatchNormRules.all }

  /// The passes of one round.
  public static var passes: [ModelPass] {
    var passes: [ModelPass] = [FoldConstants()]
    let rules = graphRules
    if !rules.isEmpty { passes.append(RuleSet(name: "fold-graph-rules", rules: rules)) }
    passes += [EliminateDeadNodes(), MergeDuplicateInitializers()]
    return passes
  }

  /// Folds `model` in place and reports what changed; the log receives every firing,
  /// refusal and note.
  public static func fold(_ model: Model, log: RewriteLog) throws -> FoldReport {
    let before = FoldReport.Counts(model)
    let result = try PassPipeline(name: "fold", passes: passes, untilFixedPoint: true).run(model, log: log)
    let after = FoldReport.Counts(model)
    var summaries: [FoldReport.PassSummary] = []
    for record in log.passes {
      if let index = summaries.firstIndex(where: { $0.name == record.name }) {
        summaries[index].runs += 1
        summaries[index].modified = summaries[index].modified || record.modified
      } else {
        summaries.append(FoldReport.PassSummary(name: record.name, runs: 1, modified: record.modified))
      }
    }
    return FoldReport(
      modified: result.modified, before: before, after: after, passes: summaries, firings: log.firings,
      refusals: log.refusals, notes: log.notes)
  }
}

/// What `Folding.fold` did: sizes before and after, each pass, rule firings, refusals with their
/// reasons, and the passes' notes (`Schemas/fold-report.schema.json`).
public struct FoldReport: JSONReport, Codable, Equatable {
  /// Sizes of a model over all its graphs (subgraphs and function bodies included).
  public struct Counts: Codable, Equatable {
    public var nodes: Int
    public var initializers: Int
    /// Payload bytes of the dense initializers as stored.
    public var initializerBytes: Int

    public init(_ model: Model) {
      let graphs = model.allGraphs
      nodes = graphs.reduce(0) { $0 + $1.nodes.count }
      initializers = graphs.reduce(0) { $0 + $1.initializers.count }
      initializerBytes = graphs.reduce(0) { total, graph in
        total + graph.initializers.reduce(0) { $0 + ($1.initializer?.storedByteCount ?? 0) }
      }
    }
  }

  /// One pass over all rounds: how often it ran and whether any run changed the model.
  public struct PassSummary: Codable, Equatable {
    public var name: String
    public var runs: Int
    public var modified: Bool
  }

  /// The input model's path, when a caller (the CLI) sets it.
  public var model: String?
  /// The written model's path, when a caller sets it.
  public var output: String?
  public var modified: Bool
  public var before: Counts
  public var after: Counts
  public var passes: [PassSummary]
  public var firings: [RewriteLog.Firing]
  public var refusals: [RewriteLog.Refusal]
  public var notes: [RewriteLog.Note]

  public init(
    modified: Bool, before: Counts, after: Counts, passes: [PassSummary], firings: [RewriteLog.Firing],
    refusals: [RewriteLog.Refusal], notes: [RewriteLog.Note]
  ) {
    self.modified = modified
    self.before = before
    self.after = after
    self.passes = passes
    self.firings = firings
    self.refusals = refusals
    self.notes = notes
  }

}
