import Foundation
import XCTest

@testable import ONNXQAT

/// The command line: help on every verb, exit codes, and outputs written atomically.
final class CommandLineTests: XCTestCase {
  func testEveryVerbHasHelp() throws {
    for verb in ["inspect", "print", "convert"] {
      let result = try TestSupport.cli(verb, "--help")
      XCTAssertEqual(result.status, 0, verb)
      XCTAssertTrue(result.stdout.contains("usage: onnx-qat \(verb) "), result.stdout)
    }
    let root = try TestSupport.cli("--help")
    XCTAssertEqual(root.status, 0)
    for verb in ["inspect", "print", "convert"] { XCTAssertTrue(root.stdout.contains("  \(verb) "), root.stdout) }
    XCTAssertEqual(try TestSupport.cli("--version").stdout, "onnx-qat \(ONNXQATVersion.string)\n")
    XCTAssertEqual(try TestSupport.run(TestSupport.binary, []).status, 2, "no verb is a usage error")
  }

  func testConvertWritesOnlyTheOutputAndReportsIt() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let output = folder + "/out.onnx"
    let result = try TestSupport.cli("convert", TestSupport.fixtures + "/tiny_cnn.onnx", "-o", output, "--json")
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertEqual(result.stdout, "{\"files\": [\"\(output)\"]}\n")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["out.onnx"])
    XCTAssertEqual(
      try Data(contentsOf: URL(fileURLWithPath: output)),
      try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixtures + "/tiny_cnn.onnx")))
  }

  func testConvertOptionsAreChecked() throws {
    let model = TestSupport.fixtures + "/tiny_cnn.onnx"
    let both = try TestSupport.cli("convert", model, "-o", "/tmp/x.onnx", "--external-data", "--inline-external-data")
    XCTAssertEqual(both.status, 2)
    XCTAssertTrue(both.stderr.contains("exclude each other"), both.stderr)
    let bad = try TestSupport.cli("convert", model, "-o", "/tmp/x.onnx", "--external-data=lots")
    XCTAssertEqual(bad.status, 2)
    XCTAssertTrue(bad.stderr.contains("'lots' is not a byte count"), bad.stderr)
  }

  func testAFailedWriteLeavesNoFileBehind() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let missingFolder = folder + "/no/such/folder/out.onnx"
    let result = try TestSupport.cli("convert", TestSupport.fixtures + "/tiny_cnn.onnx", "-o", missingFolder)
    XCTAssertEqual(result.status, 1, "a write failure is not bad input")
    XCTAssertTrue(result.stderr.contains("cannot create a file in"), result.stderr)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), [])
  }

  func testOutputReplacesAnExistingFileAtomically() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let output = folder + "/out.onnx"
    try Data("old".utf8).write(to: URL(fileURLWithPath: output))
    // Bad input: the old output stays as it was.
    try Data([0xff, 0xff]).write(to: URL(fileURLWithPath: folder + "/bad.onnx"))
    XCTAssertEqual(try TestSupport.cli("convert", folder + "/bad.onnx", "-o", output).status, 2)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output)), Data("old".utf8))
    XCTAssertEqual(try TestSupport.cli("convert", TestSupport.fixtures + "/qdq_conv.onnx", "-o", output).status, 0)
    XCTAssertEqual(
      try Data(contentsOf: URL(fileURLWithPath: output)),
      try Data(contentsOf: URL(fileURLWithPath: TestSupport.fixtures + "/qdq_conv.onnx")))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["bad.onnx", "out.onnx"])
  }

  /// `print` is stable: the same text on every run (goldens depend on it).
  func testPrintIsDeterministic() throws {
    let path = TestSupport.fixtures + "/control_flow.onnx"
    let first = try TestSupport.cli("print", "--full", path)
    let second = try TestSupport.cli("print", "--full", path)
    XCTAssertEqual(first.status, 0)
    XCTAssertEqual(first.stdout, second.stdout)
  }
}
