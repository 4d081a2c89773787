import Foundation

/// Applies a list of rules to every node of every graph of a model (subgraphs and function
/// bodies included), first matching rule wins, and repeats until no rule fires (or after
/// `maximumRounds`). Counts firings per rule and records every refusal with its reason. It has
/// converged (`PassResult.converged`) when its last round fired nothing.
public struct RuleSet: ModelPass {
  public let name: String
  public let rules: [RewriteRule]
  public let maximumRounds: Int

  public init(name: String, rules: [RewriteRule], maximumRounds: Int = 16) {
    self.name = name
    self.rules = rules
    self.maximumRounds = maximumRounds
  }

  public func run(_ model: Model, log: RewriteLog) throws -> PassResult {
    var modified = false
    // A round without a firing leaves the model as it found it: a rerun would fire nothing.
    var converged = false
    for _ in 0..<maximumRounds {
      var fired = false
      for graph in model.rewritableGraphs {
        for node in graph.nodes where node.graph === graph {
          for rule in rules {
            switch rule.match(node, in: graph, model: model) {
            case .noMatch:
              continue
            case .refused(let reason):
              log.recordRefusal(rule: rule.name, node: node.label, reason: reason)
              continue
            case .rewrite(let perform):
              let label = node.label
              let rewriter = Rewriter(graph: graph, model: model, anchor: node)
              try perform(rewriter)
              log.recordFiring(rule: rule.name, node: rewriter.subjectLabel ?? label)
              for message in rewriter.notes { log.note(rule.name, message) }
              fired = true
            }
            break
          }
        }
      }
      modified = modified || fired
      if !fired {
        converged = true
        break
      }
    }
    return PassResult(model: model, modified: modified, converged: converged)
  }
}
