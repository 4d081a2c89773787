import Foundation
import ONNXProto

/// Reads and writes single `TensorProto` files (`input_0.pb`, ... of ONNX test-data folders).
public enum TensorFile {
  public static func load(path: String) throws -> Tensor {
    let file = try MappedFile(path: path)
    guard let base = file.base, file.size > 0 else {
      throw ONNXQATError.malformedModel(path: path, reason: "the file is empty, expected a TensorProto")
    }
    let memory = BumpAllocator()
    let message = memory.unpacking {
      onnx__tensor_proto__unpack($0, file.size, base.assumingMemoryBound(to: UInt8.self))
    }
    guard let message else {
      throw ONNXQATError.malformedModel(path: path, reason: "not a TensorProto (protobuf parse failed)")
    }
    let reader = ProtoReader(path: path, owner: memory, resolveExternal: nil)
    return try reader.readTensor(message)
  }

  /// Writes `tensor` as a TensorProto file, atomically.
  public static func save(_ tensor: Tensor, to path: String) throws {
    let arena = CArena()
    let proto = try ProtoWriter(arena: arena).writeTensor(tensor)
    let message = UnsafeRawPointer(proto).assumingMemoryBound(to: ProtobufCMessage.self)
    let temporary = try TemporaryFile(near: path)
    defer { temporary.discard() }
    var written: UInt64 = 0
    let status = onnxqat_pack_to_fd(message, temporary.fd, &written)
    if status != 0 { throw ONNXQATError.io(path: path, reason: "write failed: \(String(cString: strerror(status)))") }
    try temporary.commit(to: path)
  }
}
