import Foundation
import ONNXProto

#if canImport(Glibc)
  import Glibc
#endif

/// How `ModelSaver` stores tensor payloads.
public enum ExternalDataPolicy: Equatable, Sendable {
  /// Tensors stay where they are: inline tensors inline, external tensors external (rewritten
  /// into a data file beside the output).
  case keep
  /// Additionally move every dense initializer of at least `threshold` bytes to external data.
  case externalize(threshold: Int)
  /// Bring every external tensor back into the model file.
  case inline
}

/// Writes models: protobuf-c packs the message straight to a temporary file in the output's
/// folder (payloads are streamed, never assembled in memory), which is then renamed over the
/// output, so a failed save leaves no partial file.
public enum ModelSaver {
  /// Protobuf readers (onnxruntime, Python's onnx) refuse messages of 2 GiB or more.
  public static let protobufLimit = 2_147_483_648

  /// Saves `model` to `path` and returns the files written (model first, then its data file).
  @discardableResult
  public static func save(_ model: Model, to path: String, externalData policy: ExternalDataPolicy = .keep)
    throws -> [String]
  {
    let outputDirectory = directory(of: path)
    let dataName = (path as NSString).lastPathComponent + ".data"
    let dataPath = (outputDirectory as NSString).appendingPathComponent(dataName)
    try checkDoesNotTouchInput(model, outputPath: path, dataPath: dataPath)

    let dataWriter = ExternalDataWriter(finalName: dataName, directory: outputDirectory)
    defer { dataWriter.discard() }
    let arena = CArena()
    var writer = ProtoWriter(arena: arena)
    writer.transformTensor = { tensor in try place(tensor, policy: policy, data: dataWriter) }
    let proto = try writer.writeModel(model)
    let message = UnsafeRawPointer(proto).assumingMemoryBound(to: ProtobufCMessage.self)
    let size = protobuf_c_message_get_packed_size(message)
    if size >= protobufLimit {
      throw ONNXQATError.badArgument(
        "\(path): the model would be \(size) bytes; protobuf readers refuse files of 2 GiB or more: store the large tensors as external data (convert --external-data)"
      )
    }
    let temporary = try TemporaryFile(near: path)
    defer { temporary.discard() }
    var written: UInt64 = 0
    let status = onnxqat_pack_to_fd(message, temporary.fd, &written)
    if status != 0 { throw ONNXQATError.io(path: path, reason: "write failed: \(String(cString: strerror(status)))") }
    try dataWriter.commit()
    try temporary.commit(to: path)
    return [path] + (dataWriter.hasData ? [dataPath] : [])
  }

  /// The packed model as bytes (no external data may be written: external tensors must already
  /// be external, and are kept as they are).
  public static func serialize(_ model: Model) throws -> Data {
    let arena = CArena()
    let proto = try ProtoWriter(arena: arena).writeModel(model)
    let message = UnsafeRawPointer(proto).assumingMemoryBound(to: ProtobufCMessage.self)
    var data = Data(count: protobuf_c_message_get_packed_size(message))
    data.withUnsafeMutableBytes { buffer in
      _ = protobuf_c_message_pack(message, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self))
    }
    return data
  }

  private static func place(_ tensor: Tensor, policy: ExternalDataPolicy, data: ExternalDataWriter) throws -> Tensor {
    if tensor.isExternal {
      guard let bytes = tensor.externalBytes else {
        throw ONNXQATError.externalData(
          path: "", tensor: tensor.name ?? "", reason: "its data file was not loaded, so it cannot be saved")
      }
      if policy == .inline { return inlined(tensor, bytes) }
      return try data.append(tensor, bytes)
    }
    if case .externalize(let threshold) = policy, tensor.dataType != .string,
      tensor.storedByteCount >= threshold, let bytes = tensor.payloadBytes()
    {
      return try data.append(tensor, bytes)
    }
    return tensor
  }

  private static func inlined(_ tensor: Tensor, _ bytes: Data) -> Tensor {
    var result = tensor
    result.rawData = bytes
    result.externalData = []
    result.dataLocation = nil
    result.externalBytes = nil
    return result
  }

  private static func checkDoesNotTouchInput(_ model: Model, outputPath: String, dataPath: String) throws {
    guard let source = model.sourcePath else { return }
    let sourceReal = ExternalDataResolver.realPath(source)
    if let sourceReal, sourceReal == ExternalDataResolver.realPath(outputPath) {
      throw ONNXQATError.badArgument("\(outputPath): is the input model; write the output to another path")
    }
    let sourceDirectory = directory(of: source)
    let referenced = Set(
      model.allGraphs.flatMap { graph in
        graph.initializers.compactMap { $0.initializer?.externalValue("location") }
      }.compactMap { ExternalDataResolver.realPath((sourceDirectory as NSString).appendingPathComponent($0)) })
    if let dataReal = ExternalDataResolver.realPath(dataPath), referenced.contains(dataReal) {
      throw ONNXQATError.badArgument(
        "\(dataPath): the input model reads its external data from this file; write the output to another path")
    }
  }

  static func directory(of path: String) -> String {
    let folder = (path as NSString).deletingLastPathComponent
    return folder.isEmpty ? "." : folder
  }
}

/// A temporary file beside its destination, renamed over it on commit and removed otherwise.
final class TemporaryFile {
  let path: String
  let fd: Int32
  private var committed = false

  init(near destination: String) throws {
    let folder = ModelSaver.directory(of: destination)
    let base = (destination as NSString).lastPathComponent
    var template = Array(((folder as NSString).appendingPathComponent(".\(base).tmp-XXXXXX")).utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.map { mkstemp($0) } ?? -1 }
    guard fd >= 0 else {
      throw ONNXQATError.io(
        path: destination, reason: "cannot create a file in '\(folder)': \(String(cString: strerror(errno)))")
    }
    self.fd = fd
    self.path = String(cString: template)
    fchmod(fd, 0o644)
  }

  /// Writes all of `bytes` at the file's current position (in chunks of at most 1 GiB, retrying
  /// interrupted writes); errors name `path`.
  func append(_ bytes: Data, reportingAs path: String) throws {
    try bytes.withUnsafeBytes { buffer in
      guard let base = buffer.baseAddress else { return }
      var done = 0
      while done < buffer.count {
        let n = Glibc.write(fd, base + done, min(buffer.count - done, 1 << 30))
        if n < 0 {
          if errno == EINTR { continue }
          throw ONNXQATError.io(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
        }
        done += n
      }
    }
  }

  func commit(to destination: String) throws {
    guard close(fd) == 0, rename(path, destination) == 0 else {
      throw ONNXQATError.io(path: destination, reason: "cannot write: \(String(cString: strerror(errno)))")
    }
    committed = true
  }

  func discard() {
    guard !committed else { return }
    committed = true
    close(fd)
    unlink(path)
  }
}

/// Appends tensor payloads to a new external data file (offsets aligned for mmap) and returns
/// the tensors rewritten to point at it.
final class ExternalDataWriter {
  let finalName: String
  let directory: String
  private var file: TemporaryFile?
  private var offset = 0

  init(finalName: String, directory: String) {
    self.finalName = finalName
    self.directory = directory
  }

  var hasData: Bool { file != nil }

  func append(_ tensor: Tensor, _ bytes: Data) throws -> Tensor {
    if file == nil { file = try TemporaryFile(near: (directory as NSString).appendingPathComponent(finalName)) }
    guard let file else { return tensor }
    let alignment = bytes.count >= 4096 ? 4096 : 64
    let padding = (alignment - offset % alignment) % alignment
    if padding > 0 { try file.append(Data(count: padding), reportingAs: finalName) }
    offset += padding
    let start = offset
    try file.append(bytes, reportingAs: finalName)
    offset += bytes.count
    var result = tensor
    result.rawData = nil
    result.floatData = Data()
    result.int32Data = Data()
    result.int64Data = Data()
    result.doubleData = Data()
    result.uint64Data = Data()
    result.dataLocation = .external
    result.externalData = [
      StringPair(key: "location", value: finalName), StringPair(key: "offset", value: String(start)),
      StringPair(key: "length", value: String(bytes.count)),
    ]
    result.externalBytes = bytes
    return result
  }

  func commit() throws {
    try file?.commit(to: (directory as NSString).appendingPathComponent(finalName))
  }

  func discard() { file?.discard() }
}
