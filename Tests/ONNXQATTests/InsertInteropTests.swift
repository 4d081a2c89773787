import Foundation
import XCTest

@testable import ONNXQAT

/// `onnx-qat insert` (release build) on the fixtures, ONNX's light models and purpose-built
/// models: every output passes onnx.checker (full_check) and loads and runs in onnxruntime, and
/// onnxruntime (graph optimizations off, so the fake-quant graph runs as written) and our
/// executor agree on it: every QuantizeLinear output bit for bit, float outputs within
/// rtol 1e-4 + atol 1e-5.
final class InsertInteropTests: XCTestCase {
  /// Inserts Q/DQ into each model with synthetic calibration, then checks it; returns failures.
  private func insertAndCheck(_ models: [String], extra: [String] = []) throws -> [String] {
    let folder = try TestSupport.temporaryDirectory(self)
    let binary = try TestSupport.releaseBinary()
    var failures: [String] = []
    var written: [String] = []
    for (index, path) in models.enumerated() {
      let name = (path as NSString).lastPathComponent
      let output = "\(folder)/\(index)_\(name)"
      let run = try TestSupport.run(binary, ["insert", path, "-o", output, "--calib", "synthetic:2"] + extra)
      guard run.status == 0 else {
        failures.append("\(name): insert failed: \(run.stderr)")
        continue
      }
      written.append(output)
      do {
        let compared = try crossCheck(output, folder: "\(folder)/\(index)", binary: binary)
        if compared == 0 { failures.append("\(name): no quantized tensor compared") }
      } catch {
        failures.append("\(name): \(error)")
      }
    }
    if !written.isEmpty {
      let check = try TestSupport.run(
        TestSupport.python, [TestSupport.root + "/Tests/interop/check_models.py", "--ort"] + written)
      if check.status != 0 { failures.append("check_models: \(check.stdout)\(check.stderr)") }
    }
    return failures
  }

  /// Runs the fake-quant model with its Q outputs exposed in onnxruntime and in `onnx-qat run`;
  /// returns how many integer tensors matched.
  private func crossCheck(_ model: String, folder: String, binary: String) throws -> Int {
    let reference = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/qdq_crosscheck.py", folder, model])
    guard reference.status == 0 else { throw ConformanceFailure("qdq_crosscheck: \(reference.stderr)") }
    let exposedPath = folder + "/exposed.onnx"
    let run = try TestSupport.run(binary, ["run", exposedPath, "--data", folder, "-o", folder + "/ours"])
    guard run.status == 0 else { throw ConformanceFailure("onnx-qat run: \(run.stderr)") }
    let exposed = try ModelLoader.load(path: exposedPath)
    var integers = 0
    for (index, value) in exposed.graph.outputs.enumerated() {
      let expected = try HostTensor(try TensorFile.load(path: "\(folder)/output_\(index).pb"))
      let file = "\(folder)/ours/\(RunReport.fileName(for: value.name))"
      guard let actual = try TensorInputs.load(path: file).values.first else {
        throw ConformanceFailure("output '\(value.name)' missing")
      }
      try ExecutorInteropTests.compare(actual, expected, name: value.name)
      if !expected.dataType.isFloatingPoint { integers += 1 }
    }
    return integers
  }

  func testFixturesThatHaveFloatTensors() throws {
    try TestSupport.requirePython()
    let models = ["tiny_cnn", "training_info"].map { TestSupport.fixtures + "/\($0).onnx" }
    let failures = try insertAndCheck(models) + insertAndCheck(models, extra: ["--weights-form", "dq"])
    print("insert interop, fixtures: \(2 * models.count - failures.count) of \(2 * models.count) pass")
    XCTAssertEqual(failures, [])
  }

  func testPurposeBuiltModels() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    for script in ["/Benchmarks/executor_models.py", "/Tests/interop/insert_models.py"] {
      let generate = try TestSupport.run(TestSupport.python, [TestSupport.root + script, folder] + (script.contains("executor") ? ["--small"] : []))
      XCTAssertEqual(generate.status, 0, generate.stderr)
    }
    let models = ["resnet_block", "mobilenet_block", "encoder_block", "convtranspose_bn", "opset11_unsqueeze_softmax"]
      .map { "\(folder)/\($0).onnx" }
    let failures = try insertAndCheck(models)
    print("insert interop, purpose-built models: \(models.count - failures.count) of \(models.count) pass")
    XCTAssertEqual(failures, [])
  }

  func testLightModels() throws {
    let models = try TestSupport.onnxWheelModels(all: false)
    let failures = try insertAndCheck(models)
    print("insert interop, light models: \(models.count - failures.count) of \(models.count) pass")
    XCTAssertEqual(failures, [])
  }
}
