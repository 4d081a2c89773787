import Foundation
import XCTest

@testable import ONNXQAT

/// One golden case per lowering rule, positive and negative: `Fixtures/golden/lowering/NAME.input.txt`
/// (a fake-quant graph in ONNX text) lowered for the target in its name (`_onnx_target` means
/// `--target onnx`, otherwise ort; `_fixed_point` means `--requant fixed-point`) must print as
/// `NAME.txt`: a header with the rules that fired
/// and the float islands left, then the lowered model in ONNX text. Every lowered case also runs
/// in onnxruntime with outputs equal to our executor's.
final class LoweringGoldenTests: XCTestCase {
  func testEveryLoweringGolden() throws {
    try TestSupport.requirePython()
    let folder = TestSupport.fixtures + "/golden/lowering"
    let inputs = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".input.txt") }
      .sorted()
    XCTAssertGreaterThanOrEqual(inputs.count, 10)
    for input in inputs {
      let name = String(input.dropLast(".input.txt".count))
      let model = try RewriteTestSupport.model(try String(contentsOfFile: folder + "/" + input, encoding: .utf8))
      var options = LoweringOptions()
      if name.contains("_onnx_target") { options.target = .onnx }
      if name.contains("_fixed_point") { options.requantization = .fixedPoint }
      let report = try IntegerLowering.lower(model, options: options)
      var text =
        "# lowered: " + report.lowered.map { "\($0.rule) \($0.nodes.joined(separator: ", "))" }.joined(separator: "; ")
      text += "\n# islands: " + report.islands.map { "\($0.node): \($0.reason)" }.joined(separator: "; ") + "\n"
      text += TextPrinter().print(model)
      try GoldenFile.check(text, golden: "lowering/\(name).txt")
      try LoweringTests.assertOrtEqualsExecutor(model, test: self)
    }
  }
}
