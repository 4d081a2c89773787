import Foundation
import ONNXQAT

/// `onnx-qat insert` through the C ABI.
private let insertVerb = CABIModelVerb(body: { session, model, options, input, output in
  try session.insert(model, options: options)
})

/// `int onnxqat_insert(input_path, output_path, options_json, progress, user, report_json)`.
@_cdecl("onnxqat_insert")
public func onnxqat_insert(
  _ input: UnsafePointer<CChar>?, _ output: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
  _ progress: CABIProgressFunction?, _ user: UnsafeMutableRawPointer?, _ report: CABIReportOut
) -> Int32 {
  insertVerb.run(input: input, output: output, options: options, progress: progress, user: user, report: report)
}

/// `int onnxqat_insert_buffer(input, input_size, output, output_size, options_json, progress, user,
/// report_json)`.
@_cdecl("onnxqat_insert_buffer")
public func onnxqat_insert_buffer(
  _ input: UnsafeRawPointer?, _ size: Int, _ output: CABIBufferOut, _ outputSize: UnsafeMutablePointer<Int>?,
  _ options: UnsafePointer<CChar>?, _ progress: CABIProgressFunction?, _ user: UnsafeMutableRawPointer?,
  _ report: CABIReportOut
) -> Int32 {
  insertVerb.run(
    input: input, size: size, output: output, outputSize: outputSize, options: options, progress: progress,
    user: user, report: report)
}
