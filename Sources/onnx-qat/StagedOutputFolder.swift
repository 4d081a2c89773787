import Foundation
import ONNXQAT

#if canImport(Glibc)
  import Glibc
#endif

/// An output folder filled all at once: files are written into a hidden staging folder beside
/// it (in its nearest existing ancestor, so on the same file system) while a run goes on, and
/// moved into the output folder by `commit()` only when everything succeeded. A run that fails
/// leaves neither the output folder nor the staging folder (`discard()`), and the files waiting
/// to be moved are on disk, not in memory.
final class StagedOutputFolder {
  let folder: String
  private let staging: String
  private var files: [String] = []

  init(folder: String) throws {
    self.folder = folder
    var ancestor = (folder as NSString).deletingLastPathComponent
    while !ancestor.isEmpty && !FileManager.default.fileExists(atPath: ancestor) {
      ancestor = (ancestor as NSString).deletingLastPathComponent
    }
    if ancestor.isEmpty { ancestor = "." }
    staging = (ancestor as NSString).appendingPathComponent(".onnx-qat-staging-\(UUID().uuidString)")
    do {
      try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
    } catch {
      throw ONNXQATError.io(path: folder, reason: "cannot create a staging folder in \(ancestor): \(error)")
    }
  }

  /// Stages `data` as `relativePath` inside the output folder and returns the path it will have.
  func write(_ data: Data, to relativePath: String) throws -> String {
    let target = (staging as NSString).appendingPathComponent(relativePath)
    let parent = (target as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    guard FileManager.default.createFile(atPath: target, contents: data) else {
      throw ONNXQATError.io(path: (folder as NSString).appendingPathComponent(relativePath), reason: "cannot write")
    }
    files.append(relativePath)
    return (folder as NSString).appendingPathComponent(relativePath)
  }

  /// Moves every staged file into the output folder (each by one rename, replacing a file of the
  /// same name) and removes the staging folder.
  func commit() throws {
    for relativePath in files {
      let target = (folder as NSString).appendingPathComponent(relativePath)
      try FileManager.default.createDirectory(
        atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      let source = (staging as NSString).appendingPathComponent(relativePath)
      guard rename(source, target) == 0 else {
        throw ONNXQATError.io(path: target, reason: String(cString: strerror(errno)))
      }
    }
    files = []
    discard()
  }

  /// Removes the staging folder and whatever it holds.
  func discard() {
    try? FileManager.default.removeItem(atPath: staging)
  }
}
