import Foundation
import XCTest

@testable import ONNXQAT

/// `onnx-qat insert` on the command line: the summary and JSON report (validated against
/// Schemas/report.schema.json), recipes (the committed examples validate against
/// Schemas/recipe.schema.json and parse; a bad field is named), and bad input: exit 2, a specific
/// message, no output file, the input untouched.
final class InsertCommandTests: XCTestCase {
  private let model = TestSupport.fixtures + "/tiny_cnn.onnx"

  private func validate(_ schema: String, _ documents: [String]) throws -> TestSupport.ProcessResult {
    try TestSupport.run(
      TestSupport.python,
      [TestSupport.root + "/Tests/interop/validate_json.py", TestSupport.root + "/Schemas/" + schema] + documents)
  }

  func testJsonReportValidatesAndSummaryNamesWhatWasDone() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let before = try Data(contentsOf: URL(fileURLWithPath: model))
    let json = try TestSupport.cli(
      "insert", model, "-o", folder + "/q.onnx", "--calib", "synthetic:3", "--json", "--report", folder + "/r.json")
    XCTAssertEqual(json.status, 0, json.stderr)
    XCTAssertTrue(json.stderr.contains("scales are not meaningful"), json.stderr)
    try json.stdout.write(toFile: folder + "/stdout.json", atomically: true, encoding: .utf8)
    let validation = try validate("report.schema.json", [folder + "/stdout.json", folder + "/r.json"])
    XCTAssertEqual(validation.status, 0, validation.stdout)
    let report = try JSONDecoder().decode(
      InsertReport.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/r.json")))
    XCTAssertTrue(report.synthetic)
    XCTAssertEqual(report.samples, 3)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: model)), before, "the input is untouched")

    let text = try TestSupport.cli("insert", model, "-o", folder + "/q2.onnx", "--calib", "synthetic:2", "--explain")
    XCTAssertEqual(text.status, 0, text.stderr)
    for expected in ["wrote ", "quantized: ", "weight conv1.weight: int8 per-channel axis 0", "SNR"] {
      XCTAssertTrue(text.stdout.contains(expected), "missing '\(expected)' in:\n\(text.stdout)")
    }
  }

  func testCommittedRecipesValidateAgainstTheSchemaAndParse() throws {
    try TestSupport.requirePython()
    let folder = TestSupport.fixtures + "/recipes"
    let recipes = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
    XCTAssertGreaterThanOrEqual(recipes.count, 3)
    let validation = try validate("recipe.schema.json", recipes.map { folder + "/" + $0 })
    XCTAssertEqual(validation.status, 0, validation.stdout)
    for name in recipes {
      let recipe = try Recipe.parse(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)), path: name)
      XCTAssertNotNil(recipe.preset ?? recipe.weights ?? recipe.method.map { _ in QuantType.int8 }, name)
    }
    let mixed = try Recipe.parse(
      try Data(contentsOf: URL(fileURLWithPath: folder + "/mixed_precision.json")), path: "mixed_precision.json")
    let options = mixed.apply(to: QuantizationOptions(), presetGiven: false)
    XCTAssertEqual(options.calibration.method, .percentile)
    XCTAssertEqual(options.weightsForm, .dq)
    XCTAssertEqual(options.exclude, ["Softmax"])
    XCTAssertEqual(options.tensorOverrides["input"]?.scale, 0.0078125)
    XCTAssertEqual(options.tensorOverrides["probabilities"]?.keepFloat, true)
  }

  func testRecipeOverridesApplyToTheModel() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let result = try TestSupport.cli(
      "insert", model, "-o", folder + "/q.onnx", "--calib", "synthetic:2", "--json", "--recipe",
      TestSupport.fixtures + "/recipes/mixed_precision.json", "--method", "minmax")
    XCTAssertEqual(result.status, 0, result.stderr)
    let report = try JSONDecoder().decode(InsertReport.self, from: Data(result.stdout.utf8))
    XCTAssertEqual(report.method, "minmax", "the flag wins over the recipe")
    XCTAssertEqual(report.weightsForm, "dq")
    let input = report.tensors.first { $0.name == "input" }
    XCTAssertEqual(input?.scale, 0.0078125)
    XCTAssertEqual(input?.zeroPoint, 128)
    XCTAssertNil(report.tensors.first { $0.name == "probabilities" }, "kept float by the recipe")
    XCTAssertEqual(report.tensors.first { $0.name == "fc.weight" }?.axis, nil, "Gemm weights per tensor")
    XCTAssertNotNil(report.tensors.first { $0.name == "fc.weight" }?.scale)
  }

  func testBadRecipeNamesTheField() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let cases: [(String, String)] = [
      (#"{"preset": "tpu"}"#, "field 'preset': expected one of ort, tensorrt, tflite"),
      (#"{"tensors": {"x": {"scale": -1}}}"#, "field 'tensors.x.scale': expected a positive number"),
      (#"{"op-types": {"Conv": {"typo": true}}}"#, "field 'op-types.Conv.typo': expected no such field"),
      (#"{"per-tensor": 1}"#, "field 'per-tensor': expected true or false"),
      ("[1, 2]", "not a JSON object"),
    ]
    for (index, (text, message)) in cases.enumerated() {
      let path = "\(folder)/bad\(index).json"
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      let result = try TestSupport.cli(
        "insert", model, "-o", folder + "/q.onnx", "--calib", "synthetic:1", "--recipe", path)
      XCTAssertEqual(result.status, 2, text)
      XCTAssertTrue(result.stderr.contains(message), "\(text): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains(path), "the recipe file is named: \(result.stderr)")
      let schema = try validate("recipe.schema.json", [path])
      XCTAssertNotEqual(schema.status, 0, "the schema rejects \(text) too")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/q.onnx"))
  }

  func testBadInputExitsTwoAndWritesNothing() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let output = folder + "/q.onnx"
    let cases: [([String], String)] = [
      (["insert", model, "-o", output], "missing --calib"),
      (["insert", model, "--calib", "synthetic:2"], "missing -o OUT"),
      (["insert", model, "-o", output, "--calib", "synthetic:2", "--method", "magic"], "--method must be"),
      (["insert", model, "-o", output, "--calib", "synthetic:2", "--weights", "int3"], "--weights must be"),
      (["insert", model, "-o", output, "--calib", "synthetic:2", "--preset", "x"], "--preset must be"),
      (["insert", folder + "/missing.onnx", "-o", output, "--calib", "synthetic:2"], "missing.onnx"),
      (
        ["insert", TestSupport.fixtures + "/qdq_conv.onnx", "-o", output, "--calib", "synthetic:2"], "already quantized"
      ),
    ]
    for (arguments, message) in cases {
      let result = try TestSupport.run(TestSupport.binary, arguments)
      XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: output), "\(arguments) wrote an output")
    }
  }
}
