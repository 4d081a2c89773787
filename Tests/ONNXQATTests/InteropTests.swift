import Foundation
import XCTest

@testable import ONNXQAT

/// What onnx-qat writes is checked by the reference tools: onnx.checker (full check),
/// onnxruntime, protobuf equality with the input, onnx.parser on the text, jsonschema.
final class InteropTests: XCTestCase {
  private func script(_ name: String) -> String { TestSupport.root + "/Tests/interop/" + name }

  /// Runs a check script and fails the test with its report unless every item passed.
  private func runScript(_ name: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line)
    throws
  {
    let result = try TestSupport.run(TestSupport.python, [script(name)] + arguments)
    let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
    print("\(name): \(summary)")
    XCTAssertEqual(result.status, 0, String((result.stdout + result.stderr).prefix(4000)), file: file, line: line)
    XCTAssertTrue(summary.hasSuffix(" 0 failed"), summary, file: file, line: line)
  }

  private func convert(_ input: String, _ output: String, _ extra: [String] = []) throws {
    let result = try TestSupport.run(TestSupport.binary, ["convert", input, "-o", output] + extra)
    XCTAssertEqual(result.status, 0, "convert \(input): \(result.stderr)")
  }

  /// Fixtures and ONNX's light models, converted (as is, to external data, back inline):
  /// each output passes the full checker, runs in onnxruntime and equals its input.
  func testConvertedModelsPassCheckerAndOnnxRuntimeAndEqualTheirInput() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    var outputs: [String] = []
    var pairs: [String] = []
    let inputs = TestSupport.fixtureModels + (try TestSupport.onnxWheelModels(all: false))
    for (index, input) in inputs.enumerated() {
      let name = "\(index)_" + ((input as NSString).lastPathComponent as NSString).deletingPathExtension
      let plain = "\(folder)/\(name)_plain.onnx"
      try convert(input, plain)
      let external = "\(folder)/\(name)_external/model.onnx"
      try FileManager.default.createDirectory(atPath: "\(folder)/\(name)_external", withIntermediateDirectories: true)
      // 256 bytes, so that small int64 shape tensors stay inline: onnx's shape inference
      // (part of the full check) cannot read ConstantOfShape's shape from external data.
      try convert(input, external, ["--external-data=256"])
      let inlined = "\(folder)/\(name)_inline.onnx"
      try convert(external, inlined, ["--inline-external-data"])
      outputs += [plain, external, inlined]
      pairs += ["--equal", "\(input)=\(plain)", "--equal", "\(input)=\(external)", "--equal", "\(input)=\(inlined)"]
    }
    // all_dtypes uses element types onnxruntime does not implement (complex, float6, 2-bit).
    try runScript("check_models.py", ["--ort", "--no-ort", "all_dtypes"] + pairs + outputs)
  }

  /// Every model in the onnx wheel (node tests, simple, pytorch-converted, real, light),
  /// converted: the checker accepts it and it equals its input.
  func testEveryONNXWheelModelConvertsToAnEqualValidModel() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    var pairs: [String] = []
    for (index, input) in try TestSupport.onnxWheelModels(all: true).enumerated() {
      let output = "\(folder)/\(index).onnx"
      try convert(input, output)
      pairs += ["--equal", "\(input)=\(output)", output]
    }
    try runScript("check_models.py", pairs)
  }

  /// The printed text parses with onnx.parser; with --full it says what the model says.
  func testPrintedTextParsesWithONNXParser() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    var arguments: [String] = []
    for (index, input) in (TestSupport.fixtureModels + (try TestSupport.onnxWheelModels(all: true))).enumerated() {
      let model = try ModelLoader.load(path: input)
      let elided = "\(folder)/\(index).txt"
      let full = "\(folder)/\(index).full.txt"
      try TextPrinter().print(model).write(toFile: elided, atomically: true, encoding: .utf8)
      try TextPrinter(options: .init(full: true)).print(model).write(toFile: full, atomically: true, encoding: .utf8)
      arguments += [elided, "--full", "\(input)=\(full)"]
    }
    try runScript("parse_text.py", arguments)
  }

  func testInspectJSONMatchesItsSchema() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    var documents: [String] = []
    for (index, input) in (TestSupport.fixtureModels + (try TestSupport.onnxWheelModels(all: false))).enumerated() {
      let result = try TestSupport.cli("inspect", "--json", input)
      XCTAssertEqual(result.status, 0, result.stderr)
      let path = "\(folder)/\(index).json"
      try result.stdout.write(toFile: path, atomically: true, encoding: .utf8)
      documents.append(path)
    }
    try runScript("validate_json.py", [TestSupport.root + "/Schemas/inspect.schema.json"] + documents)
  }
}
