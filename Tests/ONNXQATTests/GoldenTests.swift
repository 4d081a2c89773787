import Foundation
import XCTest

@testable import ONNXQAT

/// `print` and `inspect --json` of every fixture against `Fixtures/golden/`. With
/// RECORD_GOLDENS=1 the files are re-recorded and the test fails, so nothing is updated silently.
final class GoldenTests: XCTestCase {
  private func check(_ actual: String, golden name: String, file: StaticString = #filePath, line: UInt = #line) throws {
    try GoldenFile.check(actual, golden: name, file: file, line: line)
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
