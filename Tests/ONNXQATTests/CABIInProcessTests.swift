import Foundation
import ONNXQAT
import ONNXQATC
import XCTest

/// The C ABI's entry points called in process (no install needed): statuses and JSON for good
/// and bad input (NULL pointers, corrupt bytes, unknown options, a cancelling callback), every
/// report validated against its schema with jsonschema, and independent models on several
/// threads at once giving exactly what one thread gives.
final class CABIInProcessTests: XCTestCase {
  private let tinyCNN = TestSupport.fixtures + "/tiny_cnn.onnx"

  /// What one buffer-form call returned.
  private struct BufferResult {
    var status: Int32
    var report: String
    var output: Data?
  }

  private typealias BufferVerb = (
    UnsafeRawPointer?, Int, CABIBufferOut, UnsafeMutablePointer<Int>?, UnsafePointer<CChar>?,
    CABIProgressFunction?, UnsafeMutableRawPointer?, CABIReportOut
  ) -> Int32

  private func call(
    _ verb: BufferVerb, _ input: Data, options: String?, progress: CABIProgressFunction? = nil
  ) -> BufferResult {
    var output: UnsafeMutableRawPointer?
    var size = 0
    var report: UnsafeMutablePointer<CChar>?
    let status = input.withUnsafeBytes { bytes in
      withOptionalCString(options) { verb(bytes.baseAddress, bytes.count, &output, &size, $0, progress, nil, &report) }
    }
    defer {
      onnxqat_free(output)
      onnxqat_free(report)
    }
    return BufferResult(
      status: status, report: report.map { String(cString: $0) } ?? "",
      output: output.map { Data(bytes: $0, count: size) })
  }

  private func withOptionalCString<T>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> T) -> T {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
  }

  private func validate(_ reports: [(String, String)]) throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    for (index, (report, schema)) in reports.enumerated() {
      let path = folder + "/report\(index).json"
      try report.write(toFile: path, atomically: true, encoding: .utf8)
      let result = try TestSupport.run(
        TestSupport.python,
        [TestSupport.root + "/Tests/interop/validate_json.py", TestSupport.root + "/Schemas/" + schema, path])
      XCTAssertEqual(result.status, 0, "\(schema): \(result.stdout)\n\(report)")
    }
  }

  func testBufferFormsRunTheVerbsAndReportsMatchTheirSchemas() throws {
    XCTAssertEqual(onnxqat_version().map { String(cString: $0) }, ONNXQATVersion.string)
    let original = try Data(contentsOf: URL(fileURLWithPath: tinyCNN))
    let fold = call(onnxqat_fold_buffer, original, options: nil)
    XCTAssertEqual(fold.status, 0, fold.report)
    let insert = call(onnxqat_insert_buffer, try XCTUnwrap(fold.output), options: #"{"calib": "synthetic:3"}"#)
    XCTAssertEqual(insert.status, 0, insert.report)
    let qdq = try XCTUnwrap(insert.output)
    let lower = call(onnxqat_lower_buffer, qdq, options: #"{"target": "ort", "strict": true}"#)
    XCTAssertEqual(lower.status, 0, lower.report)
    let integer = try XCTUnwrap(lower.output)
    XCTAssertTrue(try ModelLoader.load(bytes: integer).graph.nodes.contains { $0.opType == "QLinearConv" })
    let convert = call(onnxqat_convert_buffer, original, options: "")
    XCTAssertEqual(convert.status, 0, convert.report)
    XCTAssertEqual(convert.output, original, "an untouched model comes back byte for byte")

    var report: UnsafeMutablePointer<CChar>?
    let status = qdq.withUnsafeBytes { q in
      integer.withUnsafeBytes { i in
        onnxqat_verify_buffer(
          q.baseAddress, q.count, i.baseAddress, i.count, nil, 0, #"{"calib": "synthetic:2"}"#, nil, nil, &report)
      }
    }
    let verify = report.map { String(cString: $0) } ?? ""
    onnxqat_free(report)
    XCTAssertEqual(status, 0, verify)
    let folder = try TestSupport.temporaryDirectory(self)
    let cli = try TestSupport.cli("convert", tinyCNN, "-o", folder + "/copy.onnx", "--json")
    XCTAssertEqual(cli.status, 0, cli.stderr)
    try validate([
      (cli.stdout, "convert.schema.json"), (fold.report, "fold-report.schema.json"),
      (insert.report, "report.schema.json"),
      (lower.report, "lower-report.schema.json"), (convert.report, "convert.schema.json"),
      (verify, "verify.schema.json"),
    ])
  }

  func testBadInputGivesStatusTwoAndAJSONErrorAndNeverTraps() throws {
    let original = try Data(contentsOf: URL(fileURLWithPath: tinyCNN))
    let cases: [(BufferResult, String)] = [
      (call(onnxqat_fold_buffer, Data("not a model".utf8), options: nil), "not a valid ONNX model"),
      (call(onnxqat_fold_buffer, Data(), options: nil), "the buffer is empty"),
      (call(onnxqat_fold_buffer, original, options: #"{"explain": true}"#), "fold: unknown option 'explain'"),
      (call(onnxqat_insert_buffer, original, options: "{"), "options: not a JSON object"),
      (call(onnxqat_insert_buffer, original, options: #"{"calib": true}"#), "'calib' must be a string, not 'true'"),
      (
        call(onnxqat_lower_buffer, original, options: #"{"requant": "fast"}"#),
        "'requant' must be float or fixed-point, not 'fast'"
      ),
      (call(onnxqat_convert_buffer, original, options: #"{"external-data": 16}"#), "needs output_path"),
    ]
    var reports: [(String, String)] = []
    for (result, message) in cases {
      XCTAssertEqual(result.status, 2, result.report)
      XCTAssertNil(result.output)
      XCTAssertTrue(result.report.contains(message), "expected '\(message)' in \(result.report)")
      reports.append((result.report, "error.schema.json"))
    }
    var report: UnsafeMutablePointer<CChar>?
    XCTAssertEqual(onnxqat_fold(nil, nil, nil, nil, nil, &report), 2)
    XCTAssertTrue(report.map { String(cString: $0) }?.contains("input_path is NULL") == true)
    onnxqat_free(report)
    XCTAssertEqual(onnxqat_fold(nil, nil, nil, nil, nil, nil), 2, "a NULL report_json is allowed")
    XCTAssertEqual(onnxqat_verify(tinyCNN, nil, nil, nil, nil, nil, nil), 2)
    let folder = try TestSupport.temporaryDirectory(self)
    XCTAssertEqual(onnxqat_fold(tinyCNN, tinyCNN, nil, nil, nil, &report), 2, "the input is never overwritten")
    onnxqat_free(report)
    XCTAssertEqual(onnxqat_fold(tinyCNN, folder + "/no/such/folder/out.onnx", nil, nil, nil, &report), 1)
    let failure = report.map { String(cString: $0) } ?? ""
    onnxqat_free(report)
    reports.append((failure, "error.schema.json"))
    let cancelled = call(
      onnxqat_insert_buffer, original, options: #"{"calib": "synthetic:4"}"#, progress: { _, _, _, _ in 1 })
    XCTAssertEqual(cancelled.status, 3, cancelled.report)
    XCTAssertTrue(cancelled.report.contains("\"cancelled\""), cancelled.report)
    reports.append((cancelled.report, "error.schema.json"))
    try validate(reports)
  }

  func testIndependentModelsOnSeveralThreadsGiveWhatOneThreadGives() throws {
    let original = try Data(contentsOf: URL(fileURLWithPath: tinyCNN))
    let options = (0..<4).map { #"{"calib": "synthetic:\#($0 + 2)", "method": "\#(["minmax", "mse"][$0 % 2])"}"# }
    let sequential = options.map { call(onnxqat_insert_buffer, original, options: $0).output }
    let results = Results()
    DispatchQueue.concurrentPerform(iterations: options.count * 2) { index in
      let slot = index % options.count
      let result = call(onnxqat_insert_buffer, original, options: options[slot])
      results.set(index, result.status == 0 ? result.output : nil)
    }
    for index in 0..<options.count * 2 {
      XCTAssertNotNil(sequential[index % options.count])
      XCTAssertEqual(results.get(index), sequential[index % options.count], "thread \(index)")
    }
  }
}

/// Outputs written from several threads.
private final class Results: @unchecked Sendable {
  private let lock = NSLock()
  private var values: [Int: Data] = [:]

  func set(_ index: Int, _ value: Data?) { lock.withLock { values[index] = value } }
  func get(_ index: Int) -> Data? { lock.withLock { values[index] } }
}
