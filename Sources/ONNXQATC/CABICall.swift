import Foundation
import ONNXQAT

/// `char **report_json`, as Swift sees it.
public typealias CABIReportOut = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
/// `void **output`, as Swift sees it.
public typealias CABIBufferOut = UnsafeMutablePointer<UnsafeMutableRawPointer?>?

/// One C ABI call: runs the body, catches every error, and hands back the status and the JSON
/// (the report, or `{"error": ...}`) through `report_json` when the caller gave it.
enum CABICall {
  static func run(_ reportOut: CABIReportOut, _ body: () throws -> any JSONReport) -> Int32 {
    reportOut?.pointee = nil
    var status = CABIStatus.ok
    var json: String
    do {
      json = try body().json()
    } catch {
      status = CABIStatus(error)
      json = (try? CABIErrorReport(error).json()) ?? #"{"error": {"code": 1, "message": "cannot encode the error"}}"#
    }
    reportOut?.pointee = strdup(json)
    return status.rawValue
  }

  /// A C string argument that must not be NULL; `name` is the parameter's name in `onnxqat.h`.
  static func string(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    guard let pointer else { throw ONNXQATError.badArgument("\(name) is NULL: expected a path") }
    return String(cString: pointer)
  }

  /// The options JSON (NULL or "" is no options).
  static func options(_ pointer: UnsafePointer<CChar>?) throws -> VerbOptions {
    try VerbOptions(json: pointer.map { String(cString: $0) })
  }

  /// A copy of an input buffer that must not be NULL.
  static func bytes(_ pointer: UnsafeRawPointer?, _ size: Int, _ name: String) throws -> Data {
    guard let pointer else { throw ONNXQATError.badArgument("\(name) is NULL: expected a model's bytes") }
    guard size >= 0 else { throw ONNXQATError.badArgument("\(name)_size \(size) is not a byte count") }
    return Data(bytes: pointer, count: size)
  }

  /// Checks the output parameters of a buffer form and clears them.
  static func prepare(_ output: CABIBufferOut, _ size: UnsafeMutablePointer<Int>?) throws {
    output?.pointee = nil
    size?.pointee = 0
    guard output != nil, size != nil else {
      throw ONNXQATError.badArgument("output and output_size must not be NULL: the model is returned through them")
    }
  }

  /// Copies `data` into a buffer the caller frees with `onnxqat_free`.
  static func deliver(_ data: Data, _ output: CABIBufferOut, _ size: UnsafeMutablePointer<Int>?) throws {
    guard let buffer = malloc(max(data.count, 1)) else {
      throw ONNXQATError.io(path: "<output buffer>", reason: "cannot allocate \(data.count) bytes")
    }
    data.withUnsafeBytes { bytes in
      if let base = bytes.baseAddress { memcpy(buffer, base, bytes.count) }
    }
    output?.pointee = buffer
    size?.pointee = data.count
  }

  /// Loads an input model by path; failing to read it is bad input, as on the command line.
  static func load(_ path: String, _ session: ONNXQATSession) throws -> Model {
    do {
      return try session.load(path: path)
    } catch ONNXQATError.io(let path, let reason) {
      throw ONNXQATError.badArgument("\(path): \(reason)")
    }
  }

  /// Refuses an output path that names the input (the input is never modified).
  static func refuseOverwrite(_ input: String, _ output: String) throws {
    func resolved(_ path: String) -> String {
      URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
    if resolved(input) == resolved(output) {
      throw ONNXQATError.badArgument("output_path '\(output)' is the input model; onnx-qat never overwrites its input")
    }
  }
}
