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

  /// One sample per entry: an ONNX test-data folder (`input_0.pb`, ... in graph-input order)
  /// gives one sample; a folder of `.npz` files gives one sample per file, sorted by name.
  public static func samples(folder: String, inputNames: [String]) throws -> [(String, [String: HostTensor])] {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
      throw ONNXQATError.badArgument(
        "\(folder): no such folder (expected a test-data folder or a folder of .npz files)")
    }
    let entries = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    let protos = entries.filter { $0.hasPrefix("input_") && $0.hasSuffix(".pb") }
    if !protos.isEmpty {
      var sample: [String: HostTensor] = [:]
      for entry in protos {
        guard let index = Int(entry.dropFirst(6).dropLast(3)), index < inputNames.count else {
          throw ONNXQATError.badArgument(
            "\(folder)/\(entry): the model has \(inputNames.count) inputs; no input matches this file")
        }
        sample[inputNames[index]] = try HostTensor(try TensorFile.load(path: folder + "/" + entry))
      }
      return [(folder, sample)]
    }
    let archives = entries.filter { $0.hasSuffix(".npz") }
    guard !archives.isEmpty else {
      throw ONNXQATError.badArgument("\(folder): no input_*.pb or *.npz files")
    }
    return try archives.map { ($0, try load(path: folder + "/" + $0)) }
  }
}
