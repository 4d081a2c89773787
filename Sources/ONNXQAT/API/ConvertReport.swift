import Foundation

/// What `convert` did (Schemas/convert.schema.json): the files written, or for a model
/// serialized to memory, no files and the byte count.
public struct ConvertReport: JSONReport, Codable, Equatable {
  /// The files written: the model, then its external data file if any.
  public var files: [String]
  /// The size of the serialized model, when it was serialized to memory.
  public var bytes: Int?

  /// A report.
  public init(files: [String], bytes: Int? = nil) {
    self.files = files
    self.bytes = bytes
  }
}
