import Foundation

/// Loads named input tensors for a run: `.npy` files, `.npz` archives (member names are input
/// names), ONNX `TensorProto` `.pb` files, and ONNX test-data folders.
public enum TensorInputs {
  /// The tensors in one file. A `.npy` or `.pb` file holds one tensor (named by `name`, or by the
  /// TensorProto's own name); a `.npz` holds one per member.
  public static func load(path: String, name: String? = nil) throws -> [String: HostTensor] {
    let file = try MappedFile(path: path)
    let data = file.slice(offset: 0, count: file.size)
    let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    switch (path as NSString).pathExtension.lowercased() {
    case "npy":
      return [name ?? base: try NumpyFile.read(data, name: path)]
    case "npz":
      var result: [String: HostTensor] = [:]
      for member in try ZipArchive.members(data, path: path) {
        let key = member.name.hasSuffix(".npy") ? String(member.name.dropLast(4)) : member.name
        result[key] = try NumpyFile.read(member.data, name: "\(path):\(member.name)")
      }
      return result
    case "pb":
      let tensor = try TensorFile.load(path: path)
      return [name ?? tensor.name ?? base: try HostTensor(tensor)]
    default:
      throw ONNXQATError.badArgument("\(path): expected a .npy, .npz or .pb file")
    }
  }

  /// One sample of a data folder, read from its files when `load()` is called.
  public struct Sample: Sendable {
    /// The sample's file (a `.npz`) or folder (an ONNX test-data folder), for reports.
    public let source: String
    private let read: @Sendable () throws -> [String: HostTensor]

    init(source: String, read: @escaping @Sendable () throws -> [String: HostTensor]) {
      self.source = source
      self.read = read
    }

    /// The sample's tensors by input name.
    public func load() throws -> [String: HostTensor] { try read() }
  }

  /// The samples of `folder`, not yet read: an ONNX test-data folder (`input_0.pb`, ... in
  /// graph-input order) is one sample; a folder of `.npz` files is one sample per file, sorted by
  /// name. Reading them one at a time keeps one sample in memory however many the folder holds.
  public static func sampleFiles(folder: String, inputNames: [String]) throws -> [Sample] {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
      throw ONNXQATError.badArgument(
        "\(folder): no such folder (expected a test-data folder or a folder of .npz files)")
    }
    let entries = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    let protos = entries.filter { $0.hasPrefix("input_") && $0.hasSuffix(".pb") }
    if !protos.isEmpty {
      var named: [(String, String)] = []
      for entry in protos {
        guard let index = Int(entry.dropFirst(6).dropLast(3)), index >= 0, index < inputNames.count else {
          throw ONNXQATError.badArgument(
            "\(folder)/\(entry): the model has \(inputNames.count) inputs; no input matches this file")
        }
        named.append((inputNames[index], folder + "/" + entry))
      }
      let files = named
      return [
        Sample(source: folder) {
          var sample: [String: HostTensor] = [:]
          for (name, path) in files { sample[name] = try HostTensor(try TensorFile.load(path: path)) }
          return sample
        }
      ]
    }
    let archives = entries.filter { $0.hasSuffix(".npz") }
    guard !archives.isEmpty else {
      throw ONNXQATError.badArgument("\(folder): no input_*.pb or *.npz files")
    }
    return archives.map { entry in Sample(source: entry) { try load(path: folder + "/" + entry) } }
  }

  /// Every sample of `folder` (see `sampleFiles`), read now.
  public static func samples(folder: String, inputNames: [String]) throws -> [(String, [String: HostTensor])] {
    try sampleFiles(folder: folder, inputNames: inputNames).map { ($0.source, try $0.load()) }
  }
}
