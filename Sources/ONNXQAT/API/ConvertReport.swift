import Foundation

/// What `convert` did (Schemas/convert.schema.json): the files written (none when the model was
/// serialized to memory), as `onnx-qat convert --json` prints them.
public struct ConvertReport: JSONReport, Codable, Equatable {
  /// The files written: the model, then its external data file if any.
  public var files: [String]

  /// A report.
  public init(files: [String]) { self.files = files }
}
