import Foundation

/// What a run of passes did, for the printed summary, `--explain` and the JSON reports: which
/// passes changed the model, how often each rule fired, every refusal with its reason, and
/// free-form notes of passes (e.g. "opset 11 -> 13").
public final class RewriteLog {
  /// One pass run.
  public struct PassRecord: Codable, Equatable {
    public var name: String
    public var modified: Bool
  }

  /// How often a rule fired, and at which nodes.
  public struct Firing: Codable, Equatable {
    public var rule: String
    public var count: Int
    public var nodes: [String]
  }

  /// A rule that matched a node's pattern but whose check failed.
  public struct Refusal: Codable, Equatable, Hashable {
    public var rule: String
    public var node: String
    public var reason: String
  }

  /// A fact a pass wants the user to see, attached to the pass's name.
  public struct Note: Codable, Equatable {
    public var pass: String
    public var message: String
  }

  public private(set) var passes: [PassRecord] = []
  private var firingsByRule: [String: Firing] = [:]
  private var ruleOrder: [String] = []
  /// Refusals in the order found, a set to keep each once, and the (rule, node) pairs that fired
  /// later (their refusals are stale): constant time per record in large graphs.
  private var refusalOrder: [Refusal] = []
  private var refusalKeys = Set<Refusal>()
  private var firedPairs = Set<[String]>()
  public private(set) var notes: [Note] = []

  public init() {}

  func recordPass(_ name: String, modified: Bool) {
    passes.append(PassRecord(name: name, modified: modified))
  }

  /// Counts one firing of `rule` at `node`; an earlier refusal of the same rule there is dropped.
  public func recordFiring(rule: String, node: String) {
    if firingsByRule[rule] == nil {
      firingsByRule[rule] = Firing(rule: rule, count: 0, nodes: [])
      ruleOrder.append(rule)
    }
    firingsByRule[rule]?.count += 1
    firingsByRule[rule]?.nodes.append(node)
    firedPairs.insert([rule, node])
  }

  /// Records that `rule` declined `node` for `reason` (once per rule, node and reason).
  public func recordRefusal(rule: String, node: String, reason: String) {
    let refusal = Refusal(rule: rule, node: node, reason: reason)
    if refusalKeys.insert(refusal).inserted { refusalOrder.append(refusal) }
  }

  /// Adds a note of `pass`.
  public func note(_ pass: String, _ message: String) {
    notes.append(Note(pass: pass, message: message))
  }

  /// Firings in the order rules first fired.
  public var firings: [Firing] { ruleOrder.compactMap { firingsByRule[$0] } }

  /// Refusals in the order they were found.
  public var refusals: [Refusal] {
    firedPairs.isEmpty ? refusalOrder : refusalOrder.filter { !firedPairs.contains([$0.rule, $0.node]) }
  }

  /// How many times `rule` fired.
  public func count(_ rule: String) -> Int { firingsByRule[rule]?.count ?? 0 }

  /// Everything recorded, as one Codable value for JSON reports.
  public struct Snapshot: Codable, Equatable {
    public var passes: [PassRecord]
    public var firings: [Firing]
    public var refusals: [Refusal]
    public var notes: [Note]
  }

  public var snapshot: Snapshot { Snapshot(passes: passes, firings: firings, refusals: refusals, notes: notes) }

  /// A human-readable summary: one line per rule that fired and per note; with `explain`, one
  /// line per refusal too.
  public func summary(explain: Bool) -> String {
    var lines = firings.map { "  \($0.rule): \($0.count)" }
    lines += notes.map { "  \($0.pass): \($0.message)" }
    if explain {
      lines += refusals.map { "  not applied: \($0.rule) at node \($0.node): \($0.reason)" }
    }
    return lines.joined(separator: "\n")
  }
}
