import Foundation
import ONNXProto

/// Loads ONNX models: maps the file once, parses it with protobuf-c, converts it to the IR
/// (sharing tensor payloads with the parsed message) and maps external data files.
public enum ModelLoader {
  /// Loads the model at `path`. External data is resolved relative to the model's folder.
  public static func load(path: String) throws -> Model {
    let file = try MappedFile(path: path)
    if file.size == 0 { throw ONNXQATError.malformedModel(path: path, reason: "the file is empty (0 bytes)") }
    guard let base = file.base else { throw ONNXQATError.io(path: path, reason: "cannot map the file") }
    let bytes = UnsafeRawBufferPointer(start: base, count: file.size)
    return try parse(bytes, path: path, resolver: ExternalDataResolver(modelPath: path))
  }

  /// Loads a model from memory. `baseDirectory` is where external data would be found; without
  /// it, a model with external data is refused.
  public static func load(bytes: Data, name: String = "<memory>", baseDirectory: String? = nil) throws -> Model {
    if bytes.isEmpty { throw ONNXQATError.malformedModel(path: name, reason: "the buffer is empty (0 bytes)") }
    let resolver = baseDirectory.map { ExternalDataResolver(modelPath: ($0 as NSString).appendingPathComponent(name)) }
    return try bytes.withUnsafeBytes { try parse($0, path: name, resolver: resolver) }
  }

  private static func parse(_ bytes: UnsafeRawBufferPointer, path: String, resolver: ExternalDataResolver?) throws
    -> Model
  {
    try WireScan.checkNesting(bytes, path: path)
    // The message tree lives in `memory` (freed in one go with the last tensor sharing it).
    let memory = BumpAllocator()
    let message = memory.unpacking {
      onnx__model_proto__unpack($0, bytes.count, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
    }
    guard let message else {
      throw ONNXQATError.malformedModel(path: path, reason: WireScan.diagnose(bytes))
    }
    let reader = ProtoReader(
      path: path, owner: memory,
      resolveExternal: { tensor in
        guard let resolver else {
          throw ONNXQATError.externalData(
            path: path, tensor: tensor.name ?? "",
            reason: "the model was given as bytes without a folder to read external data from")
        }
        return try resolver.bytes(for: tensor)
      })
    return try reader.readModel(message)
  }
}
