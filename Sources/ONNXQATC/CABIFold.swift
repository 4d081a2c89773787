import Foundation
import ONNXQAT

/// `onnx-qat fold` through the C ABI.
private let foldVerb = CABIModelVerb(body: { session, model, options, input, output in
  try options.requireKnown([], verb: "fold")
  var report = try session.fold(model)
  report.model = input
  report.output = output
  return report
})

/// `int onnxqat_fold(input_path, output_path, options_json, progress, user, report_json)`.
@_cdecl("onnxqat_fold")
public func onnxqat_fold(
  _ input: UnsafePointer<CChar>?, _ output: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
  _ progress: CABIProgressFunction?, _ user: UnsafeMutableRawPointer?, _ report: CABIReportOut
) -> Int32 {
  foldVerb.run(input: input, output: output, options: options, progress: progress, user: user, report: report)
}

/// `int onnxqat_fold_buffer(input, input_size, output, output_size, options_json, progress, user,
/// report_json)`.
@_cdecl("onnxqat_fold_buffer")
public func onnxqat_fold_buffer(
  _ input: UnsafeRawPointer?, _ size: Int, _ output: CABIBufferOut, _ outputSize: UnsafeMutablePointer<Int>?,
  _ options: UnsafePointer<CChar>?, _ progress: CABIProgressFunction?, _ user: UnsafeMutableRawPointer?,
  _ report: CABIReportOut
) -> Int32 {
  foldVerb.run(
    input: input, size: size, output: output, outputSize: outputSize, options: options, progress: progress,
    user: user, report: report)
}
