import Foundation
import XCTest

@testable import ONNXQAT

/// Helpers for the batch-norm rule tests: deterministic constants written into ONNX text, and
/// running `BatchNormRules.all` with the checks every positive and negative case makes.
enum BatchNormTestSupport {
  /// Deterministic pseudo-random numbers (xorshift) for constants in ONNX text.
  struct Numbers {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    /// A number uniform in [low, high), rounded to 4 decimals (as written in the text).
    mutating func next(_ low: Double, _ high: Double) -> Double {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      let unit = Double(state % 1_000_000) / 1_000_000
      return ((low + unit * (high - low)) * 10_000).rounded() / 10_000
    }

    /// `float[d0,d1,...] name = {v0, v1, ...}` (`float name = {v}` for a scalar) with values in [low, high).
    mutating func initializer(_ name: String, _ shape: [Int], _ low: Double = -1, _ high: Double = 1) -> String {
      let count = shape.reduce(1, *)
      let values = (0..<count).map { _ in String(format: "%.4f", next(low, high)) }
      let dims = shape.map(String.init).joined(separator: ",")
      let type = shape.isEmpty ? "float" : "float[\(dims)]"
      return "\(type) \(name) = {\(values.joined(separator: ", "))}"
    }

    /// The four BatchNormalization parameters `<prefix>_scale`, `_b`, `_mean`, `_var` of
    /// `channels` channels (scale in [0.5, 1.5), var in [0.1, 2)).
    mutating func batchNorm(_ prefix: String, channels: Int) -> String {
      [
        initializer(prefix + "_scale", [channels], 0.5, 1.5),
        initializer(prefix + "_b", [channels], -1, 1),
        initializer(prefix + "_mean", [channels], -1, 1),
        initializer(prefix + "_var", [channels], 0.1, 2),
      ].joined(separator: ", ")
    }
  }

  /// The inputs of a BatchNormalization with parameters made by `Numbers.batchNorm`.
  static func parameters(_ prefix: String) -> String {
    "\(prefix)_scale, \(prefix)_b, \(prefix)_mean, \(prefix)_var"
  }

  /// Runs the batch-norm rule set on `model` in place.
  @discardableResult
  static func run(_ model: Model) throws -> RewriteLog {
    let log = RewriteLog()
    _ = try RuleSet(name: "batch-norm", rules: BatchNormRules.all).run(model, log: log)
    return log
  }

  /// Parses `text`, runs the rules, and checks that each rule in `fired` fired that many times,
  /// that the nodes left are `ops`, that the graph outputs keep their names, that the outputs
  /// are the same through our executor (rtol 1e-5, atol 1e-5), and (with `ort`) that onnx's
  /// checker and onnxruntime accept the result.
  @discardableResult
  static func assertRewrites(
    _ text: String, fired: [String: Int], ops: [String], ort: Bool = true,
    file: StaticString = #filePath, line: UInt = #line
  ) throws -> (model: Model, log: RewriteLog) {
    let model = try RewriteTestSupport.model(text)
    let before = try RewriteTestSupport.copy(model)
    let log = try run(model)
    for (rule, count) in fired {
      XCTAssertEqual(
        log.count(rule), count, "firings of \(rule); log:\n\(log.summary(explain: true))", file: file, line: line)
    }
    XCTAssertEqual(model.graph.nodes.map(\.opType), ops, file: file, line: line)
    XCTAssertEqual(model.graph.outputs.map(\.name), before.graph.outputs.map(\.name), file: file, line: line)
    try RewriteTestSupport.assertSameOutputs(before, model, rtol: 1e-5, atol: 1e-5, file: file, line: line)
    if ort { try RewriteTestSupport.assertValidInOnnxAndOrt(model, file: file, line: line) }
    return (model, log)
  }

  /// Parses `text`, runs the rules, and checks that `rule` did not fire and refused with
  /// exactly `reason`; with `unchanged`, that the model prints the same as before.
  @discardableResult
  static func assertRefuses(
    _ text: String, rule: String, reason: String, unchanged: Bool = true,
    file: StaticString = #filePath, line: UInt = #line
  ) throws -> (model: Model, before: Model, log: RewriteLog) {
    let model = try RewriteTestSupport.model(text)
    let before = try RewriteTestSupport.copy(model)
    let log = try run(model)
    XCTAssertEqual(log.count(rule), 0, "\(rule) fired", file: file, line: line)
    let reasons = log.refusals.filter { $0.rule == rule }.map(\.reason)
    XCTAssertEqual(reasons, [reason], "refusals of \(rule)", file: file, line: line)
    if unchanged {
      XCTAssertEqual(TextPrinter().print(model), TextPrinter().print(before), "model changed", file: file, line: line)
    }
    return (model, before, log)
  }

  /// Runs `before` and `after` in onnxruntime on the same seeded inputs (Tests/interop/ort_reference.py)
  /// and asserts equal outputs within `atol + rtol * |before|`. Returns the largest absolute difference.
  @discardableResult
  static func assertSameOutputsInOrt(
    _ before: Model, _ after: Model, rtol: Double = 1e-5, atol: Double = 1e-5, file: StaticString = #filePath,
    line: UInt = #line
  ) throws -> Double {
    try TestSupport.requirePython()
    let folder = NSTemporaryDirectory() + "onnx-qat-bn-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var outputs: [[HostTensor]] = []
    for (label, model) in [("before", before), ("after", after)] {
      try FileManager.default.createDirectory(atPath: folder + "/" + label, withIntermediateDirectories: true)
      let path = "\(folder)/\(label).onnx"
      try ModelSaver.save(model, to: path)
      let result = try TestSupport.run(
        TestSupport.python, [TestSupport.root + "/Tests/interop/ort_reference.py", folder + "/" + label, path])
      XCTAssertEqual(result.status, 0, result.stdout + result.stderr, file: file, line: line)
      outputs.append(
        try model.graph.outputs.indices.map {
          try HostTensor(try TensorFile.load(path: "\(folder)/\(label)/0/output_\($0).pb"))
        })
    }
    var worst = 0.0
    for (position, value) in before.graph.outputs.enumerated() {
      let want = outputs[0][position]
      let got = outputs[1][position]
      XCTAssertEqual(got.shape, want.shape, "output '\(value.name)' shape", file: file, line: line)
      guard got.shape == want.shape else { continue }
      for index in 0..<want.count {
        let difference = abs(got.element(at: index) - want.element(at: index))
        worst = max(worst, difference)
        if difference > atol + rtol * abs(want.element(at: index)) {
          XCTFail(
            "onnxruntime output '\(value.name)' element \(index): \(got.element(at: index)) after, "
              + "\(want.element(at: index)) before", file: file, line: line)
          break
        }
      }
    }
    return worst
  }
}
