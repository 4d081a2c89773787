import Foundation

extension VerbOptions {
  /// The keys `convert` takes: `external-data` (true, or a threshold in bytes) and
  /// `inline-external-data` (its command-line flags without dashes, except `output` and `json`).
  public static let convertKeys: Set<String> = ["external-data", "inline-external-data"]

  /// `convert`'s external-data policy: keep (default), externalize tensors of at least the
  /// threshold (1024 bytes when `external-data` is just `true`), or inline.
  public func externalDataPolicy() throws -> ExternalDataPolicy {
    try requireKnown(Self.convertKeys, verb: "convert")
    let externalize: Int?
    switch values["external-data"] {
    case nil, .null?, .bool(false)?: externalize = nil
    case .bool(true)?: externalize = 1024
    default:
      let text = try string("external-data") ?? ""
      guard let threshold = Int(text), threshold >= 0 else {
        throw ONNXQATError.badArgument("\(label("external-data")) threshold '\(text)' is not a byte count")
      }
      externalize = threshold
    }
    switch (externalize, try flag("inline-external-data")) {
    case (.some, true):
      throw ONNXQATError.badArgument(
        "\(label("external-data")) and \(label("inline-external-data")) exclude each other")
    case (.some(let threshold), false): return .externalize(threshold: threshold)
    case (nil, true): return .inline
    case (nil, false): return .keep
    }
  }
}
