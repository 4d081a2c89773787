import Foundation
import XCTest

@testable import ONNXQAT

/// `onnx-qat fold`: over ONNX's light models and our fixtures the output is valid in
/// onnx.checker and onnxruntime and computes the same outputs; the JSON report follows its
/// schema; bad input exits 2 without writing; the input is never touched.
final class FoldCommandTests: XCTestCase {
  private var interop: String { TestSupport.root + "/Tests/interop" }

  private func report(_ json: String, file: StaticString = #filePath, line: UInt = #line) throws -> FoldReport {
    try JSONDecoder().decode(FoldReport.self, from: Data(json.utf8))
  }

  /// Folds every light model and fixture with the debug CLI, then checks validity and outputs
  /// in onnxruntime, and that the light models' weight generators are gone.
  func testFoldedModelsAreValidAndComputeTheSameOutputs() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let light = try TestSupport.onnxWheelModels(all: false)
    XCTAssertFalse(light.isEmpty)
    let models = light + TestSupport.fixtureModels
    var pairs: [(model: String, output: String)] = []
    var totals = [Int](repeating: 0, count: 6)
    for (index, model) in models.enumerated() {
      let output = folder + "/\(index)-" + URL(fileURLWithPath: model).lastPathComponent
      let result = try TestSupport.cli("fold", model, "-o", output, "--json")
      XCTAssertEqual(result.status, 0, "\(model): \(result.stderr)")
      guard result.status == 0 else { continue }
      pairs.append((model, output))
      let folded = try report(result.stdout)
      XCTAssertLessThanOrEqual(folded.after.nodes, folded.before.nodes, model)
      guard light.contains(model) else { continue }
      let counts = [folded.before, folded.after].flatMap { [$0.nodes, $0.initializers, $0.initializerBytes] }
      totals = zip(totals, counts).map { $0 + $1 }
      // Every weight generator is folded, except those refused for their size.
      let written = try ModelLoader.load(path: output)
      let generators = written.graph.nodes.filter { ["ConstantOfShape", "Constant"].contains($0.opType) }
      for node in generators {
        let name = FoldConstants.label(node)
        XCTAssertTrue(
          folded.refusals.contains { $0.node == name && $0.reason.hasSuffix("(skip case 4)") },
          "\(model): \(name) was neither folded nor refused for its size")
      }
      let sourceGenerators = try ModelLoader.load(path: model).graph.nodes.filter {
        ["ConstantOfShape", "Constant"].contains($0.opType)
      }
      XCTAssertGreaterThan(sourceGenerators.count, generators.count, model)
    }
    print(
      "fold over \(light.count) light models: nodes \(totals[0]) -> \(totals[3]), initializers "
        + "\(totals[1]) -> \(totals[4]), initializer bytes \(totals[2]) -> \(totals[5])")
    // onnxruntime 1.32 has no complex64 tensors: all_dtypes.onnx cannot load there even unfolded.
    let check = try TestSupport.run(
      TestSupport.python, [interop + "/check_models.py", "--ort", "--no-ort", "all_dtypes"] + pairs.map(\.output))
    XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
    XCTAssertTrue(check.stdout.contains("interop: \(models.count) passed, 0 failed"), check.stdout)
    for (model, output) in pairs where !model.hasSuffix("all_dtypes.onnx") {
      let compare = try TestSupport.run(TestSupport.python, [interop + "/compare_ort_outputs.py", model, output])
      XCTAssertEqual(compare.status, 0, "\(model): \(compare.stdout)\(compare.stderr)")
      XCTAssertTrue(compare.stdout.contains(" outputs equal, 0 differ"), compare.stdout)
    }
  }

  func testJSONReportFollowsTheSchemaAndMatchesTheReportFile() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    var documents: [String] = []
    for (index, model) in TestSupport.fixtureModels.enumerated() {
      let reportPath = folder + "/report-\(index).json"
      let printedPath = folder + "/printed-\(index).json"
      let result = try TestSupport.cli(
        "fold", model, "-o", folder + "/out-\(index).onnx", "--json", "--report", reportPath)
      XCTAssertEqual(result.status, 0, "\(model): \(result.stderr)")
      try Data(result.stdout.utf8).write(to: URL(fileURLWithPath: printedPath))
      let written = try String(contentsOfFile: reportPath, encoding: .utf8)
      XCTAssertEqual(try report(written), try report(result.stdout), model)
      XCTAssertEqual(try report(written).model, model)
      documents += [reportPath, printedPath]
    }
    let validation = try TestSupport.run(
      TestSupport.python,
      [interop + "/validate_json.py", TestSupport.root + "/Schemas/fold-report.schema.json"] + documents)
    XCTAssertEqual(validation.status, 0, validation.stdout + validation.stderr)
    XCTAssertTrue(validation.stdout.contains("validate_json: \(documents.count) passed, 0 failed"), validation.stdout)
  }

  func testSummaryAndExplain() throws {
    let help = try TestSupport.cli("fold", "--help")
    XCTAssertEqual(help.status, 0)
    XCTAssertTrue(help.stdout.contains("usage: onnx-qat fold MODEL -o OUT"), help.stdout)
    for option in ["--report", "--json", "--explain"] { XCTAssertTrue(help.stdout.contains(option), option) }
    let root = try TestSupport.cli("--help")
    XCTAssertTrue(root.stdout.contains("  fold "), root.stdout)
    let folder = try TestSupport.temporaryDirectory(self)
    let model = TestSupport.fixtures + "/control_flow.onnx"
    let plain = try TestSupport.cli("fold", model, "-o", folder + "/a.onnx")
    XCTAssertEqual(plain.status, 0, plain.stderr)
    let nodes = try ModelLoader.load(path: model).allGraphs.reduce(0) { $0 + $1.nodes.count }
    XCTAssertTrue(plain.stdout.contains("nodes: \(nodes) -> "), plain.stdout)
    XCTAssertTrue(plain.stdout.contains("fold-constants: "), plain.stdout)
    XCTAssertFalse(plain.stdout.contains("not applied:"), plain.stdout)
    let explained = try TestSupport.cli("fold", model, "-o", folder + "/b.onnx", "--explain")
    XCTAssertEqual(explained.status, 0, explained.stderr)
    XCTAssertTrue(explained.stdout.contains("not applied: fold-constants at node"), explained.stdout)
    XCTAssertTrue(explained.stdout.contains("(skip case 2)"), explained.stdout)
  }

  func testBadInputExitsTwoAndWritesNothing() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let output = folder + "/out.onnx"
    let corrupt = folder + "/corrupt.onnx"
    try Data((0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }).write(to: URL(fileURLWithPath: corrupt))
    let fixture = TestSupport.fixtures + "/tiny_cnn.onnx"
    let cases: [[String]] = [
      ["fold", folder + "/missing.onnx", "-o", output],
      ["fold", corrupt, "-o", output],
      ["fold", fixture],
      ["fold", fixture, "-o", output, "--unknown"],
      ["fold", fixture, fixture, "-o", output],
      ["fold", corrupt, "-o", corrupt],
    ]
    let unwritableReport = folder + "/no-such-folder/report.json"
    let reportFailure = try TestSupport.cli("fold", fixture, "-o", output, "--report", unwritableReport)
    XCTAssertNotEqual(reportFailure.status, 0, "a report that cannot be written fails the run")
    XCTAssertFalse(FileManager.default.fileExists(atPath: output), "the model stays unwritten without its report")
    let corruptBytes = try Data(contentsOf: URL(fileURLWithPath: corrupt))
    for arguments in cases {
      let result = try TestSupport.run(TestSupport.binary, arguments)
      XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains("error"), "\(arguments): \(result.stderr)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: output), "\(arguments) wrote \(output)")
    }
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: corrupt)), corruptBytes)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    XCTAssertEqual(leftovers, ["corrupt.onnx"])
  }

  func testInputFilesAreUnchanged() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let manager = FileManager.default
    for name in ["model_external.onnx", "model_external.onnx.data"] {
      try manager.copyItem(atPath: TestSupport.fixtures + "/external/" + name, toPath: folder + "/" + name)
    }
    try manager.copyItem(atPath: TestSupport.fixtures + "/qdq_conv.onnx", toPath: folder + "/qdq_conv.onnx")
    let inputs = ["model_external.onnx", "model_external.onnx.data", "qdq_conv.onnx"].map { folder + "/" + $0 }
    let before = try inputs.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
    for model in [inputs[0], inputs[2]] {
      let output = model.replacingOccurrences(of: ".onnx", with: ".folded.onnx")
      let result = try TestSupport.cli("fold", model, "-o", output)
      XCTAssertEqual(result.status, 0, result.stderr)
    }
    let after = try inputs.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
    XCTAssertEqual(before, after)
    XCTAssertTrue(manager.fileExists(atPath: folder + "/model_external.folded.onnx"))
    XCTAssertTrue(manager.fileExists(atPath: folder + "/qdq_conv.folded.onnx"))
  }

  /// fold, insert and lower keep the input's external data: an input that stored its tensors
  /// externally (threshold 64 bytes here) gives an output whose initializers of 64 bytes or more
  /// are all external, the folded and quantized weights included; an inline input stays inline.
  func testExternalInputGivesExternalOutput() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let converted = try TestSupport.cli(
      "convert", TestSupport.fixtures + "/tiny_cnn.onnx", "-o", folder + "/external.onnx", "--external-data=64")
    XCTAssertEqual(converted.status, 0, converted.stderr)
    let runs: [(String, [String])] = [
      ("fold", ["fold", "@.onnx", "-o", "@.folded.onnx"]),
      ("insert", ["insert", "@.onnx", "-o", "@.qdq.onnx", "--calib", "synthetic:2"]),
      ("lower", ["lower", "@.qdq.onnx", "-o", "@.lowered.onnx"]),
    ]
    for base in ["external", "inline"] {
      if base == "inline" {
        try FileManager.default.copyItem(
          atPath: TestSupport.fixtures + "/tiny_cnn.onnx", toPath: folder + "/inline.onnx")
      }
      for (verb, arguments) in runs {
        let result = try TestSupport.run(
          TestSupport.binary, arguments.map { $0.replacingOccurrences(of: "@", with: "\(folder)/\(base)") })
        XCTAssertEqual(result.status, 0, "\(verb): \(result.stderr)")
        let output = arguments[3].replacingOccurrences(of: "@", with: "\(folder)/\(base)")
        let model = try ModelLoader.load(path: output)
        let tensors = model.allGraphs.flatMap { $0.initializers.compactMap(\.initializer) }
        let external = tensors.filter(\.isExternal)
        if base == "inline" {
          XCTAssertTrue(external.isEmpty, "\(verb): an inline input gave external tensors")
          XCTAssertFalse(FileManager.default.fileExists(atPath: output + ".data"), verb)
          continue
        }
        XCTAssertFalse(external.isEmpty, verb)
        for tensor in tensors where tensor.storedByteCount >= 64 {
          XCTAssertTrue(tensor.isExternal, "\(verb): \(tensor.name ?? "?") (\(tensor.storedByteCount) bytes) is inline")
        }
      }
    }
    let check = try TestSupport.run(
      TestSupport.python,
      [TestSupport.root + "/Tests/interop/check_models.py", "--ort"]
        + ["folded", "qdq", "lowered"].map {
          "\(folder)/external.\($0).onnx"
        })
    XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
  }
}
