import Foundation

/// The history of one ai.onnx operator's schema, read from `OpsetSchemaVersions.table`: the opsets
/// at which a new schema version was introduced, and how each differs from the one before.
struct OpsetSchemaHistory {
  /// How a schema version differs from the previous one.
  enum Change: Equatable {
    /// The operator's first version.
    case introduced
    /// Element types or documentation only: a node keeps its form.
    case typesOnly
    /// New optional attributes or trailing optional inputs/outputs whose defaults keep the old
    /// behaviour: a node keeps its form.
    case additive
    /// Attributes removed or moved to inputs, defaults or inputs changed: a node needs a
    /// conversion.
    case changed
  }

  struct Version: Equatable {
    var since: Int64
    var change: Change
    var deprecated: Bool
  }

  let opType: String
  let versions: [Version]

  /// The history of `opType`, or nil when it is not an ai.onnx operator.
  init?(_ opType: String) {
    guard let text = OpsetSchemaVersions.table[opType] else { return nil }
    var versions: [Version] = []
    for word in text.split(separator: " ") {
      var digits = Substring(word)
      let deprecated = digits.hasSuffix("d")
      if deprecated { digits = digits.dropLast() }
      var change: Change = versions.isEmpty ? .introduced : .typesOnly
      if digits.hasSuffix("!") {
        change = .changed
        digits = digits.dropLast()
      } else if digits.hasSuffix("+") {
        change = .additive
        digits = digits.dropLast()
      }
      guard let since = Int64(digits) else { return nil }
      versions.append(Version(since: since, change: change, deprecated: deprecated))
    }
    guard !versions.isEmpty else { return nil }
    self.opType = opType
    self.versions = versions
  }

  /// The schema version a node uses at `opset`: the newest introduced at or before it.
  func schema(at opset: Int64) -> Version? { versions.last { $0.since <= opset } }

  /// The schema versions introduced after `from` up to and including `to`.
  func versions(after from: Int64, through to: Int64) -> [Version] {
    versions.filter { $0.since > from && $0.since <= to }
  }
}
