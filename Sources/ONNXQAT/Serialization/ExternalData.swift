import Foundation

/// Resolves `external_data` references of a model stored at `modelPath`: checks that each
/// location stays inside the model's folder and maps each data file once.
final class ExternalDataResolver {
  let modelPath: String
  let directory: String
  private var files: [String: MappedFile] = [:]
  private lazy var realDirectory: String? = ExternalDataResolver.realPath(directory)

  init(modelPath: String) {
    self.modelPath = modelPath
    self.directory =
      (modelPath as NSString).deletingLastPathComponent.isEmpty
      ? "." : (modelPath as NSString).deletingLastPathComponent
  }

  /// The data files that were mapped, relative locations as written in the model.
  var referencedLocations: [String] { files.keys.sorted() }

  func bytes(for tensor: Tensor) throws -> Data {
    let name = tensor.name ?? ""
    func fail(_ reason: String) -> ONNXQATError {
      .externalData(path: modelPath, tensor: name, reason: reason)
    }
    guard let location = tensor.externalValue("location"), !location.isEmpty else {
      throw fail("no 'location' key")
    }
    let filePath = try ExternalDataResolver.checkedPath(
      location, in: directory, realDirectory: realDirectory, fail: fail)
    let file: MappedFile
    if let cached = files[location] {
      file = cached
    } else {
      do { file = try MappedFile(path: filePath) } catch let error as ONNXQATError {
        throw fail("cannot read '\(location)': \(error)")
      }
      files[location] = file
    }
    let offset = try integer(tensor.externalValue("offset"), default: 0, key: "offset", fail: fail)
    let length = try integer(tensor.externalValue("length"), default: file.size - offset, key: "length", fail: fail)
    guard offset >= 0, length >= 0, offset <= file.size, length <= file.size - offset else {
      throw fail("offset \(offset) + length \(length) runs past the end of '\(location)' (\(file.size) bytes)")
    }
    if let expected = tensor.rawByteCount, tensor.segment == nil, expected != length {
      throw fail(
        "'\(location)' holds \(length) bytes for this tensor, but \(tensor.elementType.name)\(tensor.dims) needs \(expected)"
      )
    }
    return file.slice(offset: offset, count: length)
  }

  private func integer(_ text: String?, default fallback: Int, key: String, fail: (String) -> ONNXQATError) throws
    -> Int
  {
    guard let text else { return fallback }
    guard let value = Int(text) else { throw fail("'\(key)' is '\(text)', expected a non-negative integer") }
    return value
  }

  /// Joins `location` to `directory`, refusing absolute paths, `..` components and symbolic
  /// links that lead outside the folder.
  static func checkedPath(
    _ location: String, in directory: String, realDirectory: String?, fail: (String) -> ONNXQATError
  ) throws -> String {
    if location.hasPrefix("/") {
      throw fail("location '\(location)' is an absolute path; it must be relative to the model's folder")
    }
    if location.split(separator: "/").contains("..") || location.split(separator: "\\").contains("..") {
      throw fail("location '\(location)' contains '..'; it must stay inside the model's folder")
    }
    let joined = (directory as NSString).appendingPathComponent(location)
    guard let real = realPath(joined) else {
      throw fail("data file '\(location)' does not exist beside the model")
    }
    guard let realDirectory, real.hasPrefix(realDirectory.hasSuffix("/") ? realDirectory : realDirectory + "/") else {
      throw fail("location '\(location)' resolves (through a symbolic link) to '\(real)', outside the model's folder")
    }
    return real
  }

  static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }
}
