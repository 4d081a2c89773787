import Foundation

/// Writes small files atomically: a temporary file beside the destination, renamed into place.
public enum AtomicFile {
  public static func write(_ data: Data, to path: String) throws {
    let temporary = try TemporaryFile(near: path)
    defer { temporary.discard() }
    try data.withUnsafeBytes { raw in
      guard let base = raw.baseAddress else { return }
      var done = 0
      while done < raw.count {
        let written = Glibc.write(temporary.fd, base + done, raw.count - done)
        if written < 0 {
          if errno == EINTR { continue }
          throw ONNXQATError.io(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
        }
        done += written
      }
    }
    try temporary.commit(to: path)
  }
}
