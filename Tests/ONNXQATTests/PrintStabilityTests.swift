import Foundation
import XCTest

@testable import ONNXQAT

/// `onnx-qat print` is a golden-file format: the same model prints the same bytes in every run
/// (Swift's hashing is seeded per process, so an unordered walk would show), under any locale,
/// and from the debug and the release build. Floats print shortest-round-trip and
/// locale-independently.
final class PrintStabilityTests: XCTestCase {
  /// The fixtures, plus a fake-quant and a lowered model made by the tool.
  private func models(in folder: String) throws -> [String] {
    let qdq = folder + "/tiny_cnn_qdq.onnx"
    let lowered = folder + "/tiny_cnn_int.onnx"
    let insert = try TestSupport.cli(
      "insert", TestSupport.fixtures + "/tiny_cnn.onnx", "-o", qdq, "--calib", "synthetic:2")
    XCTAssertEqual(insert.status, 0, insert.stderr)
    let lower = try TestSupport.cli("lower", qdq, "-o", lowered)
    XCTAssertEqual(lower.status, 0, lower.stderr)
    return TestSupport.fixtureModels + [qdq, lowered]
  }

  private func printed(_ binary: String, _ model: String, full: Bool, locale: String = "C") throws -> String {
    let result = try TestSupport.run(
      binary, ["print", model] + (full ? ["--full"] : []), environment: ["LC_ALL": locale, "LANG": locale])
    XCTAssertEqual(result.status, 0, "\(model): \(result.stderr)")
    return result.stdout
  }

  func testPrintIsIdenticalAcrossRunsLocalesAndBuilds() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let models = try models(in: folder)
    XCTAssertGreaterThanOrEqual(models.count, 10)
    let release = TestSupport.root + "/.build/release/onnx-qat"
    let haveRelease = FileManager.default.isExecutableFile(atPath: release)
    for model in models {
      for full in [false, true] {
        let first = try printed(TestSupport.binary, model, full: full)
        XCTAssertFalse(first.isEmpty, model)
        XCTAssertEqual(try printed(TestSupport.binary, model, full: full), first, "second run: \(model) full=\(full)")
        XCTAssertEqual(
          try printed(TestSupport.binary, model, full: full, locale: "de_DE.UTF-8"), first,
          "de_DE locale: \(model) full=\(full)")
        if haveRelease {
          XCTAssertEqual(try printed(release, model, full: full), first, "release build: \(model) full=\(full)")
        }
      }
    }
    if !haveRelease {
      throw XCTSkip("no release build at \(release): the debug build was compared with itself only; run `make release`")
    }
  }

  func testFloatsPrintShortestRoundTrip() {
    let known: [(Float, String)] = [
      (0.1, "0.1"), (-2.5, "-2.5"), (1, "1.0"), (0.0078125, "0.0078125"), (.leastNonzeroMagnitude, "1e-45"),
      (.greatestFiniteMagnitude, "3.4028235e+38"), (-0.0, "-0.0"), (.infinity, "inf"), (-.infinity, "-inf"),
      (.nan, "nan"), (16_777_216, "16777216.0"), (.leastNormalMagnitude, "1.1754944e-38"),
    ]
    for (value, text) in known { XCTAssertEqual(format(value), text) }
    XCTAssertEqual(format(0.1 as Double), "0.1")
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<20_000 {
      let value = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator))
      guard value.isFinite else { continue }
      let text = format(value)
      XCTAssertEqual(Float(text)?.bitPattern, value.bitPattern, "\(text) reads back to \(value)")
      XCTAssertFalse(text.contains(","), text)
      // Shortest: dropping the last significant digit no longer reads back to the same value.
      let mantissa = text.split(separator: "e")[0].replacingOccurrences(of: "-", with: "")
      let digits = mantissa.replacingOccurrences(of: ".", with: "").drop { $0 == "0" }.reversed().drop { $0 == "0" }
      XCTAssertLessThanOrEqual(digits.count, 9, "\(text) has more digits than a float needs")
      // Powers of two are skipped: their rounding interval is lopsided, so the nearest shorter
      // decimal may fall outside it while a farther one falls inside.
      if digits.count > 1, value.significandBitPattern != 0 {
        let shorter = String(format: "%.\(digits.count - 2)e", Double(value))
        XCTAssertNotEqual(Float(shorter)?.bitPattern, value.bitPattern, "\(shorter) is shorter than \(text)")
      }
    }
  }
}
