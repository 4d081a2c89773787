import Foundation
import XCTest

@testable import ONNXQAT

/// `onnx-qat run`: inputs from .npy/.npz/.pb and data folders, outputs as .npy, the JSON
/// report, and bad input (exit 2, the tensor named, nothing written).
final class RunCommandTests: XCTestCase {
  private let model = TestSupport.fixtures + "/tiny_cnn.onnx"

  private func writeInput(_ shape: [Int], dtype: String = "float32", to path: String, seed: Int = 0) throws {
    let script =
      "import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(\(seed)).standard_normal(\(shape)).astype('\(dtype)'))"
    XCTAssertEqual(try TestSupport.run(TestSupport.python, ["-c", script, path]).status, 0)
  }

  func testRunWritesNpyOutputsEqualToTheLibraryResult() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    try writeInput([2, 3, 32, 32], to: folder + "/x.npy")
    let result = try TestSupport.cli("run", model, "--input", "input=\(folder)/x.npy", "-o", folder + "/out", "--json")
    XCTAssertEqual(result.status, 0, result.stderr)
    try result.stdout.write(toFile: folder + "/report.json", atomically: true, encoding: .utf8)
    let validation = try TestSupport.run(
      TestSupport.python,
      [
        TestSupport.root + "/Tests/interop/validate_json.py", TestSupport.root + "/Schemas/run.schema.json",
        folder + "/report.json",
      ])
    XCTAssertEqual(validation.status, 0, validation.stdout)

    let written = try XCTUnwrap(try TensorInputs.load(path: folder + "/out/probabilities.npy")["probabilities"])
    let input = try XCTUnwrap(try TensorInputs.load(path: folder + "/x.npy")["x"])
    let expected = try XCTUnwrap(
      try Interpreter(model: try ModelLoader.load(path: model)).run(["input": input])["probabilities"])
    XCTAssertEqual(written.shape, [2, 10])
    XCTAssertEqual(
      written.values(Float.self), expected.values(Float.self), "the .npy holds exactly what the executor computed")
  }

  func testDataFolderOfNpzSamples() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    try FileManager.default.createDirectory(atPath: folder + "/samples", withIntermediateDirectories: true)
    let script = """
      import numpy as np, sys
      for i in range(3):
          np.savez_compressed(f'{sys.argv[1]}/sample{i}.npz', input=np.random.default_rng(i).standard_normal((1, 3, 32, 32)).astype('float32'))
      """
    XCTAssertEqual(try TestSupport.run(TestSupport.python, ["-c", script, folder + "/samples"]).status, 0)
    let result = try TestSupport.cli("run", model, "--data", folder + "/samples", "-o", folder + "/out")
    XCTAssertEqual(result.status, 0, result.stderr)
    let interpreter = try Interpreter(model: try ModelLoader.load(path: model))
    for index in 0..<3 {
      let written = try XCTUnwrap(
        try TensorInputs.load(path: "\(folder)/out/\(index)/probabilities.npy")["probabilities"])
      let feeds = try TensorInputs.load(path: "\(folder)/samples/sample\(index).npz")
      let expected = try XCTUnwrap(try interpreter.run(feeds)["probabilities"])
      XCTAssertEqual(written.values(Float.self), expected.values(Float.self), "sample \(index)")
    }
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["out", "samples"],
      "no staging folder is left behind")
  }

  /// Samples are read and run one at a time, their outputs staged on disk: a sample that fails
  /// late (the third of four has the wrong element type) still leaves no output folder, and no
  /// staging folder either.
  func testLateFailingSampleWritesNothing() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    try FileManager.default.createDirectory(atPath: folder + "/samples", withIntermediateDirectories: true)
    let script = """
      import numpy as np, sys
      for i in range(4):
          dtype = 'float64' if i == 2 else 'float32'
          np.savez(f'{sys.argv[1]}/sample{i}.npz', input=np.ones((1, 3, 32, 32), dtype))
      """
    XCTAssertEqual(try TestSupport.run(TestSupport.python, ["-c", script, folder + "/samples"]).status, 0)
    let result = try TestSupport.cli("run", model, "--data", folder + "/samples", "-o", folder + "/out/nested")
    XCTAssertEqual(result.status, 2, result.stderr)
    XCTAssertTrue(result.stderr.contains("sample2.npz: input 'input'"), "names the sample: \(result.stderr)")
    XCTAssertTrue(result.stderr.contains("expected element type float"), result.stderr)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["samples"])
  }

  func testBadInputsNameTheTensorAndWriteNothing() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    try writeInput([1, 3, 32, 32], dtype: "float64", to: folder + "/double.npy")
    try writeInput([3, 32, 32], to: folder + "/rank3.npy")
    try writeInput([1, 4, 32, 32], to: folder + "/channels.npy")
    try writeInput([1, 3, 32, 32], to: folder + "/good.npy")
    let cases: [([String], String)] = [
      (["--input", "input=\(folder)/double.npy"], "input 'input': got double[1,3,32,32], expected element type float"),
      (["--input", "input=\(folder)/rank3.npy"], "input 'input': got float[3,32,32] of rank 3, expected rank 4"),
      (["--input", "input=\(folder)/channels.npy"], "input 'input': got float[1,4,32,32], expected 3 on axis 1"),
      (["--input", "other=\(folder)/good.npy"], "input 'other' is not an input of the model (inputs: input)"),
      (["--input", "input=\(folder)/missing.npy"], "missing.npy"),
      (["--data", folder + "/nowhere"], "nowhere"),
    ]
    for (arguments, expected) in cases {
      let result = try TestSupport.run(TestSupport.binary, ["run", model] + arguments + ["-o", folder + "/out"])
      XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out"), "no output folder on failure")
    }
    let none = try TestSupport.cli("run", model)
    XCTAssertEqual(none.status, 2)
    XCTAssertTrue(none.stderr.contains("give the inputs"), none.stderr)
  }

  func testUnsupportedOpsAreListedBeforeRunning() throws {
    let graph = Graph(name: "g")
    let x = Value(name: "x", type: .tensor(.float, [2]))
    graph.inputs = [x]
    let first = Node(opType: "NoSuchOp", domain: "example.com", name: "a", inputs: [x], outputNames: ["y"])
    let second = Node(opType: "AlsoMissing", name: "b", inputs: [first.output], outputNames: ["z"])
    try graph.append(first)
    try graph.append(second)
    graph.outputs = [try XCTUnwrap(second.output)]
    let model = Model(
      graph: graph, irVersion: 8,
      opsetImports: [OpsetImport(domain: "", version: 13), OpsetImport(domain: "example.com", version: 1)])
    XCTAssertThrowsError(try Interpreter(model: model)) { error in
      let message = "\(error)"
      XCTAssertTrue(message.contains("cannot run 2 nodes"), message)
      XCTAssertTrue(message.contains("NoSuchOp (example.com, opset 1): node 'a' (NoSuchOp)"), message)
      XCTAssertTrue(message.contains("AlsoMissing (ai.onnx, opset 13): node 'b' (AlsoMissing)"), message)
    }
  }
}
