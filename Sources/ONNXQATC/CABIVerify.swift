import Foundation
import ONNXQAT

/// `onnx-qat verify` through the C ABI: the fake-quant, the integer and (optionally) the float
/// model, loaded by the closure given; the samples from the options.
private func verify(
  options: UnsafePointer<CChar>?, progress: CABIProgressFunction?, user: UnsafeMutableRawPointer?,
  report: CABIReportOut, load: (ONNXQATSession) throws -> (qdq: Model, integer: Model, float: Model?)
) -> Int32 {
  CABICall.run(report) {
    let verbOptions = try CABICall.options(options)
    let session = CABIProgress(function: progress, user: user).session()
    let models = try load(session)
    return try session.verify(qdq: models.qdq, integer: models.integer, float: models.float, options: verbOptions)
  }
}

/// `int onnxqat_verify(qdq_path, int_path, float_path, options_json, progress, user, report_json)`;
/// `float_path` may be NULL.
@_cdecl("onnxqat_verify")
public func onnxqat_verify(
  _ qdqPath: UnsafePointer<CChar>?, _ intPath: UnsafePointer<CChar>?, _ floatPath: UnsafePointer<CChar>?,
  _ options: UnsafePointer<CChar>?, _ progress: CABIProgressFunction?, _ user: UnsafeMutableRawPointer?,
  _ report: CABIReportOut
) -> Int32 {
  verify(options: options, progress: progress, user: user, report: report) { session in
    let qdq = try CABICall.load(try CABICall.string(qdqPath, "qdq_path"), session)
    let integer = try CABICall.load(try CABICall.string(intPath, "int_path"), session)
    let float = try floatPath.map { try CABICall.load(String(cString: $0), session) }
    return (qdq, integer, float)
  }
}

/// `int onnxqat_verify_buffer(qdq, qdq_size, integer, int_size, float_model, float_size,
/// options_json, progress, user, report_json)`; `float_model` may be NULL.
@_cdecl("onnxqat_verify_buffer")
public func onnxqat_verify_buffer(
  _ qdq: UnsafeRawPointer?, _ qdqSize: Int, _ integer: UnsafeRawPointer?, _ intSize: Int,
  _ float: UnsafeRawPointer?, _ floatSize: Int, _ options: UnsafePointer<CChar>?,
  _ progress: CABIProgressFunction?, _ user: UnsafeMutableRawPointer?, _ report: CABIReportOut
) -> Int32 {
  verify(options: options, progress: progress, user: user, report: report) { session in
    let qdqModel = try session.load(bytes: try CABICall.bytes(qdq, qdqSize, "qdq"), name: "qdq buffer")
    let intModel = try session.load(bytes: try CABICall.bytes(integer, intSize, "integer"), name: "integer buffer")
    let floatModel = try float.map {
      try session.load(bytes: try CABICall.bytes($0, floatSize, "float_model"), name: "float buffer")
    }
    return (qdqModel, intModel, floatModel)
  }
}
