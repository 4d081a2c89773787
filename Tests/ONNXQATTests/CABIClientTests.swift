import Foundation
import XCTest

/// The C ABI through real clients of an installed copy: `make install PREFIX=<temp>`, then a C
/// program built with `cc $(pkg-config --cflags --libs onnxqat)`, a CMake project
/// (`pkg_check_modules`) building the same program, and a Python script calling the library
/// through ctypes. Each runs fold, insert
/// and lower on the digits CNN with its calibration samples, checks the reports and the error
/// path (a corrupt model: status 2 and a JSON error naming the problem, then another call);
/// every report they write is validated against its schema in `Schemas/` with jsonschema.
final class CABIClientTests: XCTestCase {
  private let model = TestSupport.fixtures + "/digits/digits_cnn.onnx"
  private let calib = TestSupport.fixtures + "/digits/calib"
  private let installed = ["bin/onnx-qat", "lib/libonnxqat.so", "include/onnxqat.h", "lib/pkgconfig/onnxqat.pc"]

  /// Runs `make install PREFIX=<fresh temporary prefix>` and returns the prefix. make builds the
  /// release configuration first (incrementally: `make test` has built it already), so what gets
  /// installed is never stale.
  private func install() throws -> String {
    let prefix = try TestSupport.temporaryDirectory(self) + "/prefix"
    let result = try TestSupport.run("/usr/bin/env", ["make", "-C", TestSupport.root, "install", "PREFIX=" + prefix])
    XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    for file in installed {
      XCTAssertTrue(FileManager.default.fileExists(atPath: prefix + "/" + file), "make install wrote no \(file)")
    }
    return prefix
  }

  /// Every path under `folder`, relative to it, sorted.
  private func files(under folder: String) -> [String] {
    ((FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []).sorted()
  }

  private func shell(_ command: String, environment: [String: String] = [:]) throws -> TestSupport.ProcessResult {
    try TestSupport.run("/bin/sh", ["-c", command], environment: environment)
  }

  /// Validates the reports a client wrote, each against its schema.
  private func validateReports(in folder: String, _ schemas: [String: String]) throws {
    for (report, schema) in schemas.sorted(by: { $0.key < $1.key }) {
      let result = try TestSupport.run(
        TestSupport.python,
        [
          TestSupport.root + "/Tests/interop/validate_json.py", TestSupport.root + "/Schemas/" + schema,
          folder + "/" + report,
        ])
      XCTAssertEqual(result.status, 0, "\(report) against \(schema): \(result.stdout)\(result.stderr)")
    }
  }

  private let clientReports = [
    "fold.json": "fold-report.schema.json", "insert.json": "report.schema.json",
    "lower.json": "lower-report.schema.json",
    "error.json": "error.schema.json", "cancelled.json": "error.schema.json",
  ]

  func testInstallWritesAndUninstallRemovesExactlyItsFiles() throws {
    let prefix = try install()
    let bystander = prefix + "/lib/someone-elses.so"
    try Data("x".utf8).write(to: URL(fileURLWithPath: bystander))
    let pc = try String(contentsOfFile: prefix + "/lib/pkgconfig/onnxqat.pc", encoding: .utf8)
    XCTAssertTrue(pc.contains("prefix=\(prefix)\n"), pc)
    XCTAssertTrue(pc.contains("Requires.private: libprotobuf-c"), pc)
    let version = try TestSupport.run(prefix + "/bin/onnx-qat", ["--version"])
    XCTAssertEqual(version.status, 0, version.stderr)
    let flags = try shell(
      "pkg-config --modversion onnxqat", environment: ["PKG_CONFIG_PATH": prefix + "/lib/pkgconfig"])
    XCTAssertEqual(version.stdout, "onnx-qat \(flags.stdout)")

    let result = try TestSupport.run(
      "/usr/bin/env", ["make", "-C", TestSupport.root, "uninstall", "PREFIX=" + prefix])
    XCTAssertEqual(result.status, 0, result.stderr)
    var left: [String] = []
    for file in files(under: prefix) {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: prefix + "/" + file, isDirectory: &isDirectory), !isDirectory.boolValue
      {
        left.append(file)
      }
    }
    XCTAssertEqual(left, ["lib/someone-elses.so"], "uninstall removes exactly what install wrote")
  }

  func testCClientBuiltWithPkgConfig() throws {
    try TestSupport.requirePython()
    let prefix = try install()
    let work = try TestSupport.temporaryDirectory(self)
    let source = TestSupport.root + "/Tests/clients/c/onnxqat_client.c"
    let build = try shell(
      "cc -std=c99 -Wall -Wextra -Werror -o '\(work)/client' '\(source)' $(pkg-config --cflags --libs onnxqat)",
      environment: ["PKG_CONFIG_PATH": prefix + "/lib/pkgconfig"])
    XCTAssertEqual(build.status, 0, build.stderr)
    let run = try TestSupport.run(work + "/client", [model, calib, work])
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    XCTAssertTrue(run.stdout.hasPrefix("client ok"), run.stdout)
    try validateReports(in: work, clientReports)
  }

  func testCMakeClientWithPkgCheckModules() throws {
    try TestSupport.requirePython()
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/cmake") else {
      XCTFail("cmake is missing: `make apt` installs it")
      return
    }
    let prefix = try install()
    let work = try TestSupport.temporaryDirectory(self)
    let configure = try TestSupport.run(
      "/usr/bin/cmake",
      ["-S", TestSupport.root + "/Tests/clients/cmake", "-B", work + "/build", "-DCMAKE_PREFIX_PATH=" + prefix])
    XCTAssertEqual(configure.status, 0, configure.stdout + configure.stderr)
    let build = try TestSupport.run("/usr/bin/cmake", ["--build", work + "/build"])
    XCTAssertEqual(build.status, 0, build.stdout + build.stderr)
    let run = try TestSupport.run(work + "/build/onnxqat_cmake_client", [model, calib, work])
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    XCTAssertTrue(run.stdout.hasPrefix("client ok"), run.stdout)
    try validateReports(in: work, clientReports)
  }

  func testPythonCtypesClient() throws {
    try TestSupport.requirePython()
    let prefix = try install()
    let work = try TestSupport.temporaryDirectory(self)
    let run = try TestSupport.run(
      TestSupport.python,
      [
        TestSupport.root + "/Tests/clients/python/onnxqat_ctypes_client.py", prefix, model, calib, work,
        TestSupport.root + "/Schemas",
      ])
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    XCTAssertTrue(run.stdout.hasPrefix("client ok"), run.stdout)
  }
}
