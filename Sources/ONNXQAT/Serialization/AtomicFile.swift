import Foundation

/// Writes small files atomically: a temporary file beside the destination, renamed into place.
public enum AtomicFile {
  public static func write(_ data: Data, to path: String) throws {
    let temporary = try TemporaryFile(near: path)
    defer { temporary.discard() }
    try temporary.append(data, reportingAs: path)
    try temporary.commit(to: path)
  }
}
