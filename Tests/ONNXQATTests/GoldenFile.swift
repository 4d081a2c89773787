import Foundation
import XCTest

/// Golden files under `Fixtures/golden/`: compare text with its golden file line by line. With
/// RECORD_GOLDENS=1 the file is re-recorded and the test fails, so nothing is updated silently.
enum GoldenFile {
  static var recording: Bool { ProcessInfo.processInfo.environment["RECORD_GOLDENS"] == "1" }

  static func check(_ actual: String, golden name: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let path = TestSupport.fixtures + "/golden/" + name
    if Self.recording {
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
}
