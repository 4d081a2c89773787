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

  /// Runs `make install PREFIX=<fresh temporary prefix> INSTALL_BUILD=no` and returns the prefix.
  /// make cannot build here: `swift test` holds the package's build lock while tests run, so a
  /// `swift build` started by a test waits forever. The release build must therefore exist and be
  /// newer than every library source (`make install` once, or `swift build -c release
  /// --product onnxqat` with the Makefile's RELEASE_FLAGS); otherwise the test is skipped, saying so.
  private func install() throws -> String {
    let release = TestSupport.root + "/.build/release"
    let library = release + "/libonnxqat.so"
    let hint = "run `make install PREFIX=/tmp/onnxqat` once (it builds the release library), then the tests again"
    guard FileManager.default.isExecutableFile(atPath: release + "/onnx-qat"),
      FileManager.default.fileExists(atPath: library)
    else { throw XCTSkip("no release build of onnx-qat and libonnxqat.so in \(release): \(hint)") }
    let built = try modificationDate(library)
    if let newer = try newestSource(), newer.date > built {
      throw XCTSkip("\(library) is older than \(newer.path): \(hint)")
    }
    let prefix = try TestSupport.temporaryDirectory(self) + "/prefix"
    let result = try TestSupport.run(
      "/usr/bin/env", ["make", "-C", TestSupport.root, "install", "PREFIX=" + prefix, "INSTALL_BUILD=no"])
    XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    for file in installed {
      XCTAssertTrue(FileManager.default.fileExists(atPath: prefix + "/" + file), "make install wrote no \(file)")
    }
    return prefix
  }

  private func modificationDate(_ path: String) throws -> Date {
    try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date ?? .distantPast
  }

  /// The most recently modified Swift or C source of the library and the tool.
  private func newestSource() throws -> (path: String, date: Date)? {
    var newest: (path: String, date: Date)?
    for folder in ["Sources/ONNXQAT", "Sources/ONNXQATC", "Sources/ONNXProto", "Sources/onnx-qat"] {
      let root = TestSupport.root + "/" + folder
      for file in files(under: root) where file.hasSuffix(".swift") || file.hasSuffix(".c") {
        let date = try modificationDate(root + "/" + file)
        if date > newest?.date ?? .distantPast { newest = (root + "/" + file, date) }
      }
    }
    return newest
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
