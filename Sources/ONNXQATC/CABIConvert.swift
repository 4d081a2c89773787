import Foundation
import ONNXQAT

/// `onnx-qat convert` through the C ABI.
private let convertVerb = CABIModelVerb(
  savesItself: true,
  body: { session, model, options, input, output in
    guard let output else {
      if case .externalize = try options.externalDataPolicy() {
        throw ONNXQATError.badArgument("convert: 'external-data' needs output_path; the buffer form returns one buffer")
      }
      return ConvertReport(files: [])
    }
    return try session.save(model, to: output, options: options)
  })

/// `int onnxqat_convert(input_path, output_path, options_json, progress, user, report_json)`.
@_cdecl("onnxqat_convert")
public func onnxqat_convert(
  _ input: UnsafePointer<CChar>?, _ output: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
  _ progress: CABIProgressFunction?, _ user: UnsafeMutableRawPointer?, _ report: CABIReportOut
) -> Int32 {
  convertVerb.run(input: input, output: output, options: options, progress: progress, user: user, report: report)
}

/// `int onnxqat_convert_buffer(input, input_size, output, output_size, options_json, progress, user,
/// report_json)`.
@_cdecl("onnxqat_convert_buffer")
public func onnxqat_convert_buffer(
  _ input: UnsafeRawPointer?, _ size: Int, _ output: CABIBufferOut, _ outputSize: UnsafeMutablePointer<Int>?,
  _ options: UnsafePointer<CChar>?, _ progress: CABIProgressFunction?, _ user: UnsafeMutableRawPointer?,
  _ report: CABIReportOut
) -> Int32 {
  convertVerb.run(
    input: input, size: size, output: output, outputSize: outputSize, options: options, progress: progress,
    user: user, report: report)
}
