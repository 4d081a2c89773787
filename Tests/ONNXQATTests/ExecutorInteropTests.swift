import Foundation
import XCTest

@testable import ONNXQAT

/// The executor against onnxruntime on the same inputs, through `onnx-qat run` (release build,
/// so ONNX's light models run in seconds): the fixtures, ONNX's light models and purpose-built
/// models. Float outputs within rtol 1e-4 + atol 1e-5 (float32 summation order differs between
/// the two); integer and bool outputs exact. The QLinear graphs' outputs, dequantized from
/// integers, come out bit-exact (asserted separately).
final class ExecutorInteropTests: XCTestCase {
  static let rtol = 1e-4
  static let atol = 1e-5

  /// Runs each model in onnxruntime (script) and in our interpreter; returns failures.
  private func crossCheck(_ models: [String], exact: Bool = false) throws -> [String] {
    let folder = try TestSupport.temporaryDirectory(self)
    let reference = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/ort_reference.py", folder] + models)
    XCTAssertEqual(reference.status, 0, reference.stdout + reference.stderr)
    var failures: [String] = []
    let binary = try TestSupport.releaseBinary()
    for (index, path) in models.enumerated() {
      do {
        let model = try ModelLoader.load(path: path)
        let output = "\(folder)/ours/\(index)"
        let run = try TestSupport.run(binary, ["run", path, "--data", "\(folder)/\(index)", "-o", output])
        guard run.status == 0 else { throw ConformanceFailure("onnx-qat run failed: \(run.stderr)") }
        for (position, value) in model.graph.outputs.enumerated() {
          let expected = try HostTensor(try TensorFile.load(path: "\(folder)/\(index)/output_\(position).pb"))
          let file = "\(output)/\(RunReport.fileName(for: value.name))"
          guard let actual = try TensorInputs.load(path: file).values.first else {
            throw ConformanceFailure("output '\(value.name)' missing")
          }
          try Self.compare(actual, expected, name: value.name, exact: exact)
        }
      } catch {
        failures.append("\((path as NSString).lastPathComponent): \(error)")
      }
    }
    return failures
  }

  static func compare(_ actual: HostTensor, _ expected: HostTensor, name: String, exact forced: Bool = false) throws {
    guard actual.dataType == expected.dataType, actual.shape == expected.shape else {
      throw ConformanceFailure("output '\(name)': \(actual.typeDescription), onnxruntime \(expected.typeDescription)")
    }
    let exact = forced || !actual.dataType.isFloatingPoint
    for index in 0..<actual.count {
      let a = actual.element(at: index)
      let e = expected.element(at: index)
      if a == e || (a.isNaN && e.isNaN) { continue }
      if exact || abs(a - e) > atol + rtol * abs(e) {
        throw ConformanceFailure("output '\(name)' element \(index): \(a), onnxruntime \(e)")
      }
    }
  }

  func testFixturesMatchOnnxRuntime() throws {
    try TestSupport.requirePython()
    // all_dtypes uses types onnxruntime lacks; sparse_and_metadata's outputs are sparse tensors,
    // which the executor (dense tensors only) does not produce.
    let models = TestSupport.fixtureModels.filter { !$0.contains("all_dtypes") && !$0.contains("sparse_and_metadata") }
    let failures = try crossCheck(models)
    print("executor vs onnxruntime, fixtures: \(models.count - failures.count) of \(models.count) match")
    for failure in failures { XCTFail(failure) }
  }

  /// Purpose-built models (Benchmarks/executor_models.py --small): a ResNet-style CNN with
  /// BatchNormalization and residual adds, a depthwise MobileNet-style CNN, a transformer encoder
  /// block, an LSTM, and the QLinear graphs onnxruntime's optimizer makes of the quantized CNNs.
  func testPurposeBuiltModelsMatchOnnxRuntime() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let generate = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Benchmarks/executor_models.py", folder, "--small"])
    XCTAssertEqual(generate.status, 0, generate.stderr)
    let models = [
      "resnet_block", "mobilenet_block", "encoder_block", "lstm", "resnet_block_qlinear", "mobilenet_block_qlinear",
    ]
    .map { "\(folder)/\($0).onnx" }
    let failures = try crossCheck(models)
    print("executor vs onnxruntime, purpose-built models: \(models.count - failures.count) of \(models.count) match")
    for failure in failures { XCTFail(failure) }
    XCTAssertEqual(
      try crossCheck(models.filter { $0.hasSuffix("_qlinear.onnx") }, exact: true), [], "integer graphs bit-exact")
  }

  func testLightModelsMatchOnnxRuntime() throws {
    let models = try TestSupport.onnxWheelModels(all: false)
    let failures = try crossCheck(models)
    print("executor vs onnxruntime, light models: \(models.count - failures.count) of \(models.count) match")
    for failure in failures { XCTFail(failure) }
  }
}
