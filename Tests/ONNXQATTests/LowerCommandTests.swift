import Foundation
import XCTest

@testable import ONNXQAT

/// `onnx-qat lower` and `onnx-qat verify` on the command line: summaries, JSON reports valid
/// against their schemas, --strict, and bad input (exit 2, nothing written).
final class LowerCommandTests: XCTestCase {
  private func validate(_ schema: String, _ text: String, folder: String) throws {
    let path = folder + "/\(schema).json"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    let result = try TestSupport.run(
      TestSupport.python,
      [TestSupport.root + "/Tests/interop/validate_json.py", TestSupport.root + "/Schemas/" + schema, path])
    XCTAssertEqual(result.status, 0, result.stdout)
  }

  func testInsertLowerVerifyOnTheCommandLine() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let float = TestSupport.fixtures + "/tiny_cnn.onnx"
    let insert = try TestSupport.cli("insert", float, "-o", folder + "/q.onnx", "--calib", "synthetic:2")
    XCTAssertEqual(insert.status, 0, insert.stderr)
    let lower = try TestSupport.cli("lower", folder + "/q.onnx", "-o", folder + "/i.onnx", "--json")
    XCTAssertEqual(lower.status, 0, lower.stderr)
    try validate("lower-report.schema.json", lower.stdout, folder: folder)
    let text = try TestSupport.cli("lower", folder + "/q.onnx", "-o", folder + "/i2.onnx", "--explain")
    XCTAssertTrue(text.stdout.contains("Conv -> QLinearConv: 3"), text.stdout)
    let verify = try TestSupport.cli(
      "verify", "--qdq", folder + "/q.onnx", "--int", folder + "/i.onnx", "--float", float, "--calib", "synthetic:2",
      "--json")
    XCTAssertEqual(verify.status, 0, verify.stderr)
    try validate("verify.schema.json", verify.stdout, folder: folder)
    let report = try JSONDecoder().decode(VerifyReport.self, from: Data(verify.stdout.utf8))
    XCTAssertEqual(report.samples, 2)
    XCTAssertNotNil(report.outputs.first?.integerVsFloat)
    XCTAssertNotNil(report.outputs.first?.top1IntegerVsFakeQuant)
    let summary = try TestSupport.cli(
      "verify", "--qdq", folder + "/q.onnx", "--int", folder + "/i.onnx", "--calib", "synthetic:2")
    XCTAssertTrue(summary.stdout.contains("elements differ"), summary.stdout)
  }

  func testStrictRefusesIslandsAndBadInputWritesNothing() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let output = folder + "/i.onnx"
    let cases: [([String], String)] = [
      (["lower", TestSupport.fixtures + "/tiny_cnn.onnx", "-o", output], "no QuantizeLinear/DequantizeLinear"),
      (["lower", TestSupport.fixtures + "/qdq_conv.onnx"], "missing -o OUT"),
      (["lower", TestSupport.fixtures + "/qdq_conv.onnx", "-o", output, "--target", "tpu"], "--target must be"),
      (["verify", "--qdq", TestSupport.fixtures + "/qdq_conv.onnx"], "give --qdq"),
    ]
    for (arguments, message) in cases {
      let result = try TestSupport.run(TestSupport.binary, arguments)
      XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderr)")
      XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }
  }
}
