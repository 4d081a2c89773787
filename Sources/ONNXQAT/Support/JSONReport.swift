import Foundation

/// A report that `--json` prints and `--report` writes: pretty-printed JSON with sorted keys and
/// unescaped slashes, so that it is stable across runs; infinities and NaN (JSON has none) as
/// the strings "inf", "-inf" and "nan".
public protocol JSONReport: Encodable {}

extension JSONReport {
  /// The report as JSON bytes (`JSONTextEncoder`).
  public func jsonData() throws -> Data { try JSONTextEncoder.encode(self) }

  /// The report as Foundation's `JSONEncoder` writes it: the same bytes as `jsonData()`, slower
  /// (kept as the reference `JSONTextEncoderTests` compares with).
  func foundationJSONData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try encoder.encode(self)
  }

  /// The report as JSON text.
  public func json() throws -> String { String(decoding: try jsonData(), as: UTF8.self) }
}
