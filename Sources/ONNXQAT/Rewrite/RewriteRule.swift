import Foundation

/// The outcome of matching a rule at one node.
public enum RuleMatch {
  /// The pattern does not apply here (wrong op type, wrong shape of the neighbourhood). Silent.
  case noMatch
  /// The pattern applies but a check failed; the reason is shown by `--explain` and in reports,
  /// e.g. "W is not a constant initializer".
  case refused(String)
  /// Everything checked; the closure performs the rewrite through the rewriter. Nothing may be
  /// mutated before this point.
  case rewrite((Rewriter) throws -> Void)
}

/// A local rewrite: pattern, check and rewrite (onnxscript's rewriter, MLIR's PatternRewriter).
/// `match` inspects the graph around `node` without changing it and either declines, refuses
/// with a reason, or returns the rewrite to perform.
public protocol RewriteRule {
  /// The name counted in reports, e.g. "fold-batchnorm-into-conv".
  var name: String { get }
  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch
}
