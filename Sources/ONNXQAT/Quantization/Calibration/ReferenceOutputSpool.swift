import Foundation

/// The float model's graph outputs of every calibration sample, written to a temporary file as
/// the calibration runs compute them and read back one sample at a time when the fake-quant
/// model's error is measured, so that the float model does not run twice and memory holds one
/// sample's outputs however many samples there are.
///
/// Each sample is a record of, per output in `outputNames` order, an element count (`Int64`, -1
/// when the output is absent or not floating point, which the error metrics skip) and that many
/// `Double`s: `HostTensor.element(at:)` of each element, the exact values the metrics compare.
///
/// Errors: 1. the temporary file cannot be created or written; 2. a record cannot be read back
/// (the file was truncated).
public final class ReferenceOutputSpool {
  /// The outputs recorded, in record order.
  public let outputNames: [String]
  /// Samples recorded so far.
  public private(set) var samples = 0
  private let url: URL
  private let writer: FileHandle
  private var reader: FileHandle?
  private var samplesRead = 0

  /// Creates an empty spool for the outputs named `outputNames`.
  public init(outputNames: [String]) throws {
    self.outputNames = outputNames
    url = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-qat-reference-\(UUID().uuidString).bin")
    guard FileManager.default.createFile(atPath: url.path, contents: nil),
      let handle = try? FileHandle(forWritingTo: url)
    else {
      throw ONNXQATError.io(path: url.path, reason: "cannot create the reference-output spool")  // error 1
    }
    writer = handle
  }

  deinit {
    try? writer.close()
    try? reader?.close()
    try? FileManager.default.removeItem(at: url)
  }

  /// Appends one sample's outputs (those missing or not floating point are recorded as absent).
  public func record(_ outputs: [String: HostTensor]) throws {
    var bytes = Data()
    for name in outputNames {
      guard let tensor = outputs[name], tensor.dataType.isFloatingPoint else {
        append(Int64(-1), to: &bytes)
        continue
      }
      append(Int64(tensor.count), to: &bytes)
      var values = [Double](repeating: 0, count: tensor.count)
      for index in values.indices { values[index] = tensor.element(at: index) }
      values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
    do {
      try writer.write(contentsOf: bytes)
    } catch {
      throw ONNXQATError.io(path: url.path, reason: "cannot write the reference-output spool: \(error)")  // error 1
    }
    samples += 1
  }

  /// The next recorded sample's outputs, as float64 tensors of shape `[count]` by output name;
  /// nil after the last sample. The first call ends recording.
  public func next() throws -> [String: HostTensor]? {
    guard samplesRead < samples else { return nil }
    if reader == nil {
      try? writer.synchronize()
      reader = try? FileHandle(forReadingFrom: url)
    }
    guard let reader else {
      throw ONNXQATError.io(path: url.path, reason: "cannot read the reference-output spool")  // error 2
    }
    var outputs: [String: HostTensor] = [:]
    for name in outputNames {
      let count = try read(Int64.self, count: 1, from: reader)[0]
      guard count >= 0 else { continue }
      let values = try read(Double.self, count: Int(count), from: reader)
      outputs[name] = HostTensor(.double, shape: [values.count], values: values)
    }
    samplesRead += 1
    return outputs
  }

  private func append(_ value: Int64, to bytes: inout Data) {
    withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
  }

  private func read<T>(_: T.Type, count: Int, from handle: FileHandle) throws -> [T] {
    let byteCount = count * MemoryLayout<T>.stride
    guard count > 0 else { return [] }
    guard let data = try? handle.read(upToCount: byteCount), data.count == byteCount else {
      throw ONNXQATError.io(path: url.path, reason: "the reference-output spool ends early")  // error 2
    }
    return data.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
  }
}
