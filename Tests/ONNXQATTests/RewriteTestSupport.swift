import Foundation
import XCTest

@testable import ONNXQAT

/// Helpers for tests of passes and rules: models written as ONNX text (parsed by onnx.parser),
/// deterministic random inputs, and numeric comparison of a model before and after a rewrite
/// through our executor.
enum RewriteTestSupport {
  /// Parses ONNX text syntax into a model (checked by onnx.checker with full_check first).
  static func model(_ text: String, irVersion: Int = 8, check: Bool = true) throws -> Model {
    try TestSupport.requirePython()
    let path = NSTemporaryDirectory() + "onnx-qat-text-" + UUID().uuidString + ".onnx"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TestSupport.python)
    process.arguments =
      [TestSupport.root + "/Tests/interop/text_to_model.py", path, "--ir-version", String(irVersion)]
      + (check ? [] : ["--no-check"])
    let input = Pipe()
    let errors = Pipe()
    process.standardInput = input
    process.standardError = errors
    try process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let message = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw ConformanceFailure("ONNX text did not parse: \(String(decoding: message, as: UTF8.self))")
    }
    return try ModelLoader.load(path: path)
  }

  /// An independent copy of `model` (serialized and loaded again), so that a pass can change
  /// one while the other stays as it was.
  static func copy(_ model: Model) throws -> Model {
    try ModelLoader.load(bytes: try ModelSaver.serialize(model))
  }

  /// Deterministic inputs for every graph input that is not an initializer: floats uniform in
  /// [-2, 2) from a fixed-seed generator, integer tensors small non-negative values; symbolic or
  /// unknown dimensions become `dynamicSize`.
  static func randomInputs(_ model: Model, seed: UInt64 = 1, dynamicSize: Int = 2) -> [String: HostTensor] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func next() -> Double {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return Double(state % 1_000_000) / 1_000_000
    }
    var inputs: [String: HostTensor] = [:]
    for value in model.graph.inputs where value.initializer == nil {
      guard let type = value.type?.tensorType, let elementType = type.elementType else { continue }
      let shape = (type.shape?.dims ?? []).map { dimension -> Int in
        if case .known(let size) = dimension.size { return Int(size) }
        return dynamicSize
      }
      let count = shape.reduce(1, *)
      switch elementType {
      case .float:
        inputs[value.name] = HostTensor(.float, shape: shape, values: (0..<count).map { _ in Float(next() * 4 - 2) })
      case .int64:
        inputs[value.name] = HostTensor(.int64, shape: shape, values: (0..<count).map { _ in Int64(next() * 3) })
      case .uint8:
        inputs[value.name] = HostTensor(.uint8, shape: shape, values: (0..<count).map { _ in UInt8(next() * 255) })
      case .int8:
        inputs[value.name] = HostTensor(
          .int8, shape: shape, values: (0..<count).map { _ in Int8(next() * 255 - 128) })
      default: inputs[value.name] = HostTensor(zeros: elementType, shape: shape)
      }
    }
    return inputs
  }

  /// Runs both models on the same inputs and asserts equal outputs: within `atol + rtol * |b|`
  /// for floating-point outputs, exactly for integer outputs.
  static func assertSameOutputs(
    _ before: Model, _ after: Model, inputs: [String: HostTensor]? = nil, rtol: Double = 1e-5, atol: Double = 1e-5,
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let feeds = inputs ?? randomInputs(before)
    let expected = try Interpreter(model: before).run(feeds)
    let actual = try Interpreter(model: after).run(feeds)
    for value in before.graph.outputs {
      guard let want = expected[value.name], let got = actual[value.name] else {
        XCTFail("output '\(value.name)' missing after the rewrite", file: file, line: line)
        continue
      }
      XCTAssertEqual(got.shape, want.shape, "output '\(value.name)' shape", file: file, line: line)
      XCTAssertEqual(got.dataType, want.dataType, "output '\(value.name)' type", file: file, line: line)
      guard got.shape == want.shape, got.dataType == want.dataType else { continue }
      let exact = !want.dataType.isFloatingPoint
      var worst = 0.0
      for index in 0..<want.count {
        let a = got.element(at: index)
        let b = want.element(at: index)
        if a == b || (a.isNaN && b.isNaN) { continue }
        if exact || abs(a - b) > atol + rtol * abs(b) {
          worst = max(worst, abs(a - b))
          XCTFail(
            "output '\(value.name)' element \(index): \(a) after, \(b) before (atol \(atol), rtol \(rtol))",
            file: file, line: line)
          break
        }
      }
    }
  }

  /// Saves `model` and checks it with onnx.checker (full_check) and an onnxruntime session.
  static func assertValidInOnnxAndOrt(_ model: Model, file: StaticString = #filePath, line: UInt = #line) throws {
    try TestSupport.requirePython()
    let path = NSTemporaryDirectory() + "onnx-qat-check-" + UUID().uuidString + ".onnx"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try ModelSaver.save(model, to: path)
    let result = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/check_models.py", "--ort", path])
    XCTAssertEqual(result.status, 0, result.stdout + result.stderr, file: file, line: line)
  }
}
