import Foundation
import XCTest

@testable import ONNXQAT

/// `print` and `inspect --json` of every fixture against `Fixtures/golden/`. With
/// RECORD_GOLDENS=1 the files are re-recorded and the test fails, so nothing is updated silently.
final class GoldenTests: XCTestCase {
  private var recording: Bool { ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" }

  private func check(_ actual: String, golden name: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let path = TestSupport.fixtures + "/golden/" + name
    if recording {
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try actual.write(toFile: path, atomically: true, encoding: .utf8)
      XCTFail("recorded \(name); run the tests again without RECORD_GOLDENS", file: file, line: line)
      return
    }
    guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
      XCTFail("missing golden file \(path): record it with `make goldens`", file: file, line: line)
      return
    }
    guard expected != actual else { return }
    let expectedLines = expected.components(separatedBy: "\n")
    let actualLines = actual.components(separatedBy: "\n")
    var report: [String] = []
    for index in 0..<max(expectedLines.count, actualLines.count) where report.count < 20 {
      let old = index < expectedLines.count ? expectedLines[index] : "<end of file>"
      let new = index < actualLines.count ? actualLines[index] : "<end of file>"
      if old != new { report.append("line \(index + 1):\n  - \(old)\n  + \(new)") }
    }
    XCTFail("\(name) differs from its golden file:\n" + report.joined(separator: "\n"), file: file, line: line)
  }

  private func goldenName(_ path: String) -> String {
    path.replacingOccurrences(of: TestSupport.fixtures + "/", with: "")
      .replacingOccurrences(of: ".onnx", with: "")
      .replacingOccurrences(of: "/", with: "_")
  }

  func testPrintGoldens() throws {
    for path in TestSupport.fixtureModels {
      let model = try ModelLoader.load(path: path)
      try check(TextPrinter().print(model), golden: goldenName(path) + ".txt")
    }
  }

  func testInspectJSONGoldens() throws {
    for path in TestSupport.fixtureModels {
      let model = try ModelLoader.load(path: path)
      try check(try ModelSummary(model).json() + "\n", golden: goldenName(path) + ".inspect.json")
    }
  }

  /// The CLI prints exactly what the library does (the goldens cover both).
  func testCommandLineMatchesLibrary() throws {
    let path = TestSupport.fixtures + "/tiny_cnn.onnx"
    let model = try ModelLoader.load(path: path)
    XCTAssertEqual(try TestSupport.cli("print", path).stdout, TextPrinter().print(model))
    XCTAssertEqual(try TestSupport.cli("inspect", "--json", path).stdout, try ModelSummary(model).json() + "\n")
    XCTAssertEqual(try TestSupport.cli("inspect", path).stdout, ModelSummary(model).text)
  }
}
