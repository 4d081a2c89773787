import Foundation

/// What `lower` did, as printed by `--json` and written by `--report`
/// (Schemas/lower-report.schema.json).
public struct LoweringReport: JSONReport, Codable, Equatable {
  /// One op that became integer ops.
  public struct Lowered: Codable, Equatable {
    public var rule: String
    public var nodes: [String]
  }

  /// A float op left between DequantizeLinear and QuantizeLinear, and why.
  public struct Island: Codable, Equatable {
    public var node: String
    public var opType: String
    public var reason: String
  }

  public var verb = "lower"
  public var target: String
  public var requantization: String
  public var lowered: [Lowered]
  public var islands: [Island]
  public var notes: [String]
  /// Op type -> count, before and after.
  public var opsBefore: [String: Int]
  public var opsAfter: [String: Int]
  public var seconds: Double

  static func histogram(_ graph: Graph) -> [String: Int] {
    var counts: [String: Int] = [:]
    for node in graph.allNodes {
      counts[(node.isStandard ? "" : node.domain + ".") + node.opType, default: 0] += 1
    }
    return counts
  }
}
