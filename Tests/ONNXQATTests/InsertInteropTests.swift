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

  /// Runs the fake-quant model with its QuantizeLinear inputs and outputs exposed, in
  /// onnxruntime and in `onnx-qat run`. Checks: 1. our QuantizeLinear on onnxruntime's own float
  /// input gives onnxruntime's integers bit for bit, for every exposed Q; 2. the two executors'
  /// integer tensors differ by at most 1 LSB, on a counted (printed) fraction of elements: float
  /// ops sum in different orders, so a value that lands on a rounding tie can round either way
  /// and the difference then travels downstream; 3. float graph outputs within rtol 1e-4 +
  /// atol 1e-5, or within one LSB of the output's DequantizeLinear when a tie moved it.
  /// Returns how many Q tensors were checked.
  private func crossCheck(_ model: String, folder: String, binary: String) throws -> Int {
    let reference = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/qdq_crosscheck.py", folder, model])
    guard reference.status == 0 else { throw ConformanceFailure("qdq_crosscheck: \(reference.stderr)") }
    let exposedPath = folder + "/exposed.onnx"
    let run = try TestSupport.run(binary, ["run", exposedPath, "--data", folder, "-o", folder + "/ours"])
    guard run.status == 0 else { throw ConformanceFailure("onnx-qat run: \(run.stderr)") }
    let exposed = try ModelLoader.load(path: exposedPath)
    var ort: [String: HostTensor] = [:]
    var ours: [String: HostTensor] = [:]
    for (index, value) in exposed.graph.outputs.enumerated() {
      ort[value.name] = try HostTensor(try TensorFile.load(path: "\(folder)/output_\(index).pb"))
      ours[value.name] = try TensorInputs.load(path: "\(folder)/ours/\(RunReport.fileName(for: value.name))").values
        .first
    }
    let initializers = Set(exposed.graph.initializers.map(\.name))
    for (index, value) in exposed.graph.inputs.filter({ !initializers.contains($0.name) }).enumerated() {
      ort[value.name] = try HostTensor(try TensorFile.load(path: "\(folder)/input_\(index).pb"))
    }
    let evaluator = try Interpreter(
      model: Model(graph: Graph(), opsetImports: exposed.opsetImports), checkingKernels: false)
    var checked = 0
    var flips = 0
    var elements = 0
    for node in exposed.graph.nodes where node.opType == "QuantizeLinear" {
      guard let output = node.output, let expected = ort[output.name], let x = node.input(0).flatMap({ ort[$0.name] })
      else { continue }
      let parameters = try node.inputs.dropFirst().map {
        try $0?.constantTensor(in: exposed).map { try HostTensor($0) }
      }
      guard let computed = try evaluator.evaluate(node, inputs: [x] + parameters).first ?? nil else { continue }
      try ExecutorInteropTests.compare(
        computed, expected, name: output.name + " (our Q on onnxruntime's input)", exact: true)
      checked += 1
      guard let actual = ours[output.name], let a = QuantizedValues.int32s(actual),
        let b = QuantizedValues.int32s(expected)
      else { throw ConformanceFailure("'\(output.name)' missing from our run") }
      for (p, q) in zip(a, b) where p != q {
        guard abs(p - q) == 1 else { throw ConformanceFailure("'\(output.name)': \(p) here, \(q) in onnxruntime") }
        flips += 1
      }
      elements += a.count
    }
    for value in try ModelLoader.load(path: model).graph.outputs {
      guard let expected = ort[value.name], let actual = ours[value.name] else { continue }
      let lsb = value.producer?.opType == "DequantizeLinear" ? 1.0 : 0.0
      do {
        try ExecutorInteropTests.compare(actual, expected, name: value.name)
      } catch  where lsb > 0 {
        let scale = try XCTUnwrap(
          Verifier.lsbScale(of: value.name, in: try ModelLoader.load(path: model)), "output scale of \(value.name)")
        for index in 0..<expected.count
        where abs(actual.element(at: index) - expected.element(at: index)) > Double(scale) * 1.001 {
          throw ConformanceFailure("output '\(value.name)' element \(index) differs by more than one LSB")
        }
      }
    }
    print(
      "  \((model as NSString).lastPathComponent): \(checked) QuantizeLinear exact on onnxruntime's inputs; "
        + "\(flips) of \(elements) quantized elements one LSB apart between the executors")
    return checked
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
      let generate = try TestSupport.run(
        TestSupport.python, [TestSupport.root + script, folder] + (script.contains("executor") ? ["--small"] : []))
      XCTAssertEqual(generate.status, 0, generate.stderr)
    }
    let models = ["resnet_block", "mobilenet_block", "encoder_block", "convtranspose_bn", "opset11_unsqueeze_softmax"]
      .map { "\(folder)/\($0).onnx" }
    let failures = try insertAndCheck(models)
    print("insert interop, purpose-built models: \(models.count - failures.count) of \(models.count) pass")
    XCTAssertEqual(failures, [])
  }

  /// Four of the nine light models by default (squeezenet, shufflenet, resnet50, inception_v1:
  /// about 80 s); ONNXQAT_ALL_LIGHT_MODELS=1 runs all nine (about 270 s).
  func testLightModels() throws {
    let all = ProcessInfo.processInfo.environment["ONNXQAT_ALL_LIGHT_MODELS"] == "1"
    let chosen = ["squeezenet", "shufflenet", "resnet50", "inception_v1"]
    let models = try TestSupport.onnxWheelModels(all: false).filter { path in
      all || chosen.contains { path.hasSuffix("light_\($0).onnx") }
    }
    let failures = try insertAndCheck(models)
    print("insert interop, light models: \(models.count - failures.count) of \(models.count) pass")
    XCTAssertEqual(failures, [])
  }
}
