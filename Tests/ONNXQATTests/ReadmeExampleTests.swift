// The README's Swift example ("Library" section) is kept here verbatim between the two marker
// lines, and the test below checks that the README still quotes it character for character and
// runs it on the tiny CNN fixture. (Chosen over building the README block in a temporary package:
// that would need a second SwiftPM build inside `swift test`.)
// README example begin
import ONNXQAT

/// Float model in, integer model out, printing a line per calibration sample.
func quantize(_ input: String, calibration: String, output: String) throws -> LoweringReport {
  let session = ONNXQATSession(progress: { event in
    if event.stage == .calibrate { print("calibrated \(event.done) of \(event.total ?? 0)") }
  })
  let model = try session.load(path: input)
  let folding = try session.fold(model)
  print("nodes: \(folding.before.nodes) -> \(folding.after.nodes)")
  let insert = try session.insert(model, options: ["calib": .string(calibration), "method": "entropy"])
  print("quantized \(insert.tensors.count) tensors on \(insert.samples) samples")
  let lowering = try session.lower(model, options: ["target": "ort"])
  try session.save(model, to: output)
  return lowering
}
// README example end

import Foundation
import XCTest

/// The README's Swift example compiles (it is this file's `quantize`), is quoted verbatim in the
/// README, and does what it says on a real model.
final class ReadmeExampleTests: XCTestCase {
  private func between(_ text: String, _ start: String, _ end: String) -> String? {
    guard let from = text.range(of: start), let to = text.range(of: end, range: from.upperBound..<text.endIndex)
    else { return nil }
    return String(text[from.upperBound..<to.lowerBound])
  }

  func testReadmeQuotesTheExampleVerbatim() throws {
    let source = try String(contentsOfFile: #filePath, encoding: .utf8)
    let readme = try String(contentsOfFile: TestSupport.root + "/README.md", encoding: .utf8)
    let example = try XCTUnwrap(between(source, "// README example begin\n", "// README example end\n"))
    XCTAssertTrue(example.hasPrefix("import ONNXQAT\n"), example)
    XCTAssertTrue(readme.contains("```swift\n" + example + "```\n"), "README.md must quote the example verbatim")
  }

  func testReadmeExampleRuns() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let report = try quantize(
      TestSupport.fixtures + "/digits/digits_cnn.onnx", calibration: TestSupport.fixtures + "/digits/calib",
      output: folder + "/digits_int.onnx")
    XCTAssertTrue(report.islands.isEmpty, "\(report.islands)")
    XCTAssertTrue(report.lowered.contains { $0.rule == "Conv -> QLinearConv" }, "\(report.lowered)")
    let model = try ModelLoader.load(path: folder + "/digits_int.onnx")
    XCTAssertTrue(model.graph.nodes.contains { $0.opType == "QLinearConv" })
    XCTAssertFalse(model.graph.nodes.contains { $0.opType == "Conv" })
  }
}
