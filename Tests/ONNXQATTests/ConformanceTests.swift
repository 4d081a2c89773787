import Foundation
import XCTest

@testable import ONNXQAT

/// ONNX's own backend node test cases through the executor: every case whose ops all have
/// kernels must pass with the case's tolerances (exact for integer, bool and string outputs),
/// unless a `Tests/conformance/exceptions*.txt` file lists it with a reason.
/// ONNXQAT_CONFORMANCE_FILTER=substring restricts the run to matching case names.
final class ConformanceTests: XCTestCase {
  struct Case: Decodable {
    let name: String
    let rtol: Double
    let atol: Double
    let ops: [String]
    let sets: Int?
    let unexported: String?
  }

  static let folder = TestSupport.root + "/.build/onnx-node-tests"

  private func exportCases() throws -> [Case] {
    try TestSupport.requirePython()
    let export = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/conformance/export_node_tests.py", Self.folder])
    XCTAssertEqual(export.status, 0, export.stderr)
    let data = try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/index.json"))
    return try JSONDecoder().decode([Case].self, from: data)
  }

  /// `case: reason` lines of every `Tests/conformance/exceptions*.txt` (one file per kernel family).
  private func exceptions() throws -> [String: String] {
    let folder = TestSupport.root + "/Tests/conformance"
    var result: [String: String] = [:]
    for file in try FileManager.default.contentsOfDirectory(atPath: folder)
    where file.hasPrefix("exceptions") && file.hasSuffix(".txt") {
      let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
      for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 2 { result[parts[0]] = parts[1] }
      }
    }
    return result
  }

  func testBackendNodeCases() throws {
    let cases = try exportCases()
    let excepted = try exceptions()
    let filter = ProcessInfo.processInfo.environment["ONNXQAT_CONFORMANCE_FILTER"]
    let registry = KernelRegistry.standard
    let supported = Set(registry.ops)
    var passed = 0
    var failures: [String] = []
    var skipped: [String: Int] = [:]
    var missingOps: [String: Int] = [:]
    for entry in cases {
      if let filter, !entry.name.contains(filter) { continue }
      if let reason = entry.unexported {
        skipped["not exportable as tensors (\(reason.prefix(30))...)", default: 0] += 1
        continue
      }
      let missing = entry.ops.filter { !supported.contains($0) }
      for op in missing { missingOps[op, default: 0] += 1 }
      if !missing.isEmpty {
        skipped["op without kernel: \(missing.joined(separator: ", "))", default: 0] += 1
        continue
      }
      if let reason = excepted[entry.name] {
        skipped["listed exception: \(reason)", default: 0] += 1
        continue
      }
      do {
        try runCase(entry, registry: registry)
        passed += 1
      } catch {
        failures.append("\(entry.name): \(error)")
      }
    }
    let skippedCount = skipped.values.reduce(0, +)
    print(
      "conformance: \(passed + failures.count) run, \(passed) passed, \(failures.count) failed, \(skippedCount) skipped"
    )
    for (reason, count) in skipped.sorted(by: { $0.value > $1.value }) where !reason.hasPrefix("op without") {
      print("  skipped \(count): \(reason)")
    }
    let unsupported = skipped.filter { $0.key.hasPrefix("op without") }.reduce(0) { $0 + $1.value }
    print("  skipped \(unsupported): op without kernel")
    let top = missingOps.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(25)
    print(
      "  ops without kernel (cases): "
        + top.map { "\($0.key.replacingOccurrences(of: "::", with: "")) \($0.value)" }.joined(separator: ", "))
    for failure in failures { XCTFail(String(failure.prefix(600))) }
  }

  private func runCase(_ entry: Case, registry: KernelRegistry) throws {
    let folder = Self.folder + "/" + entry.name
    let model = try ModelLoader.load(path: folder + "/model.onnx")
    let interpreter = try Interpreter(model: model, registry: registry)
    let initializers = Set(model.graph.initializers.map(\.name))
    let inputs = model.graph.inputs.filter { !initializers.contains($0.name) }
    for set in 0..<(entry.sets ?? 1) {
      let data = "\(folder)/test_data_set_\(set)"
      var feeds: [String: HostTensor] = [:]
      for (index, value) in inputs.enumerated() {
        let path = "\(data)/input_\(index).pb"
        guard FileManager.default.fileExists(atPath: path) else { continue }
        feeds[value.name] = try HostTensor(try TensorFile.load(path: path))
      }
      let outputs = try interpreter.run(feeds)
      for (index, value) in model.graph.outputs.enumerated() {
        let expected = try HostTensor(try TensorFile.load(path: "\(data)/output_\(index).pb"))
        guard let actual = outputs[value.name] else { throw ConformanceFailure("output '\(value.name)' missing") }
        try compare(actual, expected, rtol: entry.rtol, atol: entry.atol, name: value.name)
      }
    }
  }

  private func compare(_ actual: HostTensor, _ expected: HostTensor, rtol: Double, atol: Double, name: String) throws {
    guard actual.dataType == expected.dataType else {
      throw ConformanceFailure("output '\(name)': dtype \(actual.dataType.name), expected \(expected.dataType.name)")
    }
    guard actual.shape == expected.shape else {
      throw ConformanceFailure("output '\(name)': shape \(actual.shape), expected \(expected.shape)")
    }
    if actual.dataType == .string {
      guard actual.strings == expected.strings else { throw ConformanceFailure("output '\(name)': strings differ") }
      return
    }
    let exact = !actual.dataType.isFloatingPoint
    for index in 0..<actual.count {
      let a = actual.element(at: index)
      let e = expected.element(at: index)
      if a == e || (a.isNaN && e.isNaN) { continue }
      if !exact && abs(a - e) <= atol + rtol * abs(e) { continue }
      throw ConformanceFailure(
        "output '\(name)' element \(index): \(a), expected \(e) (\(exact ? "exact" : "rtol \(rtol), atol \(atol)"))")
    }
  }
}

struct ConformanceFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
