import Foundation

/// What a pass did to a model: the model (the same object, edited in place) and whether anything
/// changed, after onnx/ir-py's `PassResult`.
public struct PassResult {
  public let model: Model
  public let modified: Bool
  /// The pass vouches that running it again at once would change nothing and record nothing new
  /// in the log (a pass that found nothing to do, or a rule set that stopped because no rule
  /// fired). `PassPipeline` then skips that rerun while no other pass changes the model. False
  /// unless the pass says so.
  public let converged: Bool

  public init(model: Model, modified: Bool, converged: Bool = false) {
    self.model = model
    self.modified = modified
    self.converged = converged
  }
}

/// A transformation of a whole model. A pass edits the model in place through the IR's safe
/// edits, records what it did in `log`, and says whether it changed anything. A pass that throws
/// has found a model it must not touch; callers then discard the model (the input file is never
/// written).
public protocol ModelPass {
  /// The name reports and `--explain` use, e.g. "fold-constants".
  var name: String { get }
  func run(_ model: Model, log: RewriteLog) throws -> PassResult
}

extension Model {
  /// Every graph whose nodes a pass visits: the main graph, its subgraphs, and function bodies.
  var rewritableGraphs: [Graph] {
    [graph] + graph.allSubgraphs + functions.flatMap { [$0.body] + $0.body.allSubgraphs }
  }
}
