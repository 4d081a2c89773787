import Foundation
import ONNXQAT

/// `onnx-qat lower` through the C ABI.
private let lowerVerb = CABIModelVerb(body: { session, model, options, input, output in
  try session.lower(model, options: options)
})

/// `int onnxqat_lower(input_path, output_path, options_json, progress, user, report_json)`.
@_cdecl("onnxqat_lower")
public func onnxqat_lower(
  _ input: UnsafePointer<CChar>?, _ output: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
  _ progress: CABIProgressFunction?, _ user: UnsafeMutableRawPointer?, _ report: CABIReportOut
) -> Int32 {
  lowerVerb.run(input: input, output: output, options: options, progress: progress, user: user, report: report)
}

/// `int onnxqat_lower_buffer(input, input_size, output, output_size, options_json, progress, user,
/// report_json)`.
@_cdecl("onnxqat_lower_buffer")
public func onnxqat_lower_buffer(
  _ input: UnsafeRawPointer?, _ size: Int, _ output: CABIBufferOut, _ outputSize: UnsafeMutablePointer<Int>?,
  _ options: UnsafePointer<CChar>?, _ progress: CABIProgressFunction?, _ user: UnsafeMutableRawPointer?,
  _ report: CABIReportOut
) -> Int32 {
  lowerVerb.run(
    input: input, size: size, output: output, outputSize: outputSize, options: options, progress: progress,
    user: user, report: report)
}
