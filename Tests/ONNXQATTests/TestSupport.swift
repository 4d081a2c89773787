import Foundation
import XCTest

@testable import ONNXQAT

/// Paths and helpers shared by the tests.
enum TestSupport {
  /// The package root (three levels above this file).
  static let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  static var fixtures: String { root + "/Fixtures" }

  /// The fixture models (`Fixtures/*.onnx` and `Fixtures/external/*.onnx`).
  static var fixtureModels: [String] {
    let direct = ((try? FileManager.default.contentsOfDirectory(atPath: fixtures)) ?? [])
      .filter { $0.hasSuffix(".onnx") }.sorted().map { fixtures + "/" + $0 }
    let external = ((try? FileManager.default.contentsOfDirectory(atPath: fixtures + "/external")) ?? [])
      .filter { $0.hasSuffix(".onnx") }.sorted().map { fixtures + "/external/" + $0 }
    return direct + external
  }

  /// The built command-line tool (swift test builds it with the tests): the one beside the
  /// running test bundle, so that a release run of the tests compares the release library with
  /// the release tool (a debug tool sums floats in another order), else the debug build, else
  /// the release build.
  static var binary: String {
    let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let candidates = [products + "/onnx-qat", root + "/.build/debug/onnx-qat"]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? root + "/.build/release/onnx-qat"
  }

  /// The release build of the tool (`make test` builds it), for tests that run real models.
  static func releaseBinary(file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let path = root + "/.build/release/onnx-qat"
    guard FileManager.default.isExecutableFile(atPath: path) else {
      XCTFail("no release build at \(path): run `make release` (or `make test`)", file: file, line: line)
      throw XCTSkip("release build missing")
    }
    return path
  }

  /// The venv's Python with onnx and onnxruntime (`make venv`); ONNXQAT_PYTHON overrides it.
  static var python: String {
    ProcessInfo.processInfo.environment["ONNXQAT_PYTHON"] ?? root + "/.build/venv/bin/python"
  }

  /// Fails the test when the interop Python is missing: interop checks are part of the suite.
  static func requirePython(file: StaticString = #filePath, line: UInt = #line) throws {
    guard FileManager.default.isExecutableFile(atPath: python) else {
      XCTFail("no Python venv at \(python): run `make venv` (or `make test`)", file: file, line: line)
      throw XCTSkip("python missing")
    }
  }

  struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// Runs an executable with arguments and captures its output.
  @discardableResult
  static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws
    -> ProcessResult
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { $1 }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes concurrently so a chatty child cannot block on a full pipe.
    let errBox = PipeData()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errBox.data = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let errData = errBox.data
    process.waitUntilExit()
    return ProcessResult(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  static func cli(_ arguments: String...) throws -> ProcessResult { try run(binary, arguments) }

  /// A fresh temporary folder, removed when the test ends.
  static func temporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "onnx-qat-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
  }

  /// ONNX's own models shipped in the onnx wheel (light models first), listed by the venv.
  static func onnxWheelModels(all: Bool) throws -> [String] {
    try requirePython()
    let result = try run(python, [root + "/Tests/interop/light_models.py"] + (all ? ["--all"] : []))
    XCTAssertEqual(result.status, 0, result.stderr)
    return result.stdout.split(separator: "\n").map(String.init)
  }
}

/// What a background reader took from a pipe; read only after the reader's group is waited on.
final class PipeData: @unchecked Sendable {
  var data = Data()
}
