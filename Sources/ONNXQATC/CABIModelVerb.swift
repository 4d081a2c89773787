import Foundation
import ONNXQAT

/// The two forms of a verb that edits one model (fold, insert, lower, convert): paths in and
/// out, or a buffer in and a buffer out. The verb itself is a closure over the session, the
/// model, its options and the names of input and output.
struct CABIModelVerb {
  /// Edits the model and returns the report.
  typealias Body = (ONNXQATSession, Model, VerbOptions, _ input: String, _ output: String?) throws -> any JSONReport

  /// True when the body saves the model itself (convert, whose options say how).
  var savesItself = false
  let body: Body

  /// The path form.
  func run(
    input: UnsafePointer<CChar>?, output: UnsafePointer<CChar>?, options: UnsafePointer<CChar>?,
    progress: CABIProgressFunction?, user: UnsafeMutableRawPointer?, report: CABIReportOut
  ) -> Int32 {
    CABICall.run(report) {
      let inputPath = try CABICall.string(input, "input_path")
      let outputPath = try CABICall.string(output, "output_path")
      let verbOptions = try CABICall.options(options)
      try CABICall.refuseOverwrite(inputPath, outputPath)
      let session = CABIProgress(function: progress, user: user).session()
      let model = try CABICall.load(inputPath, session)
      let result = try body(session, model, verbOptions, inputPath, outputPath)
      if !savesItself { try session.save(model, to: outputPath) }
      return result
    }
  }

  /// The buffer form: the output model comes back in a buffer freed with `onnxqat_free`.
  func run(
    input: UnsafeRawPointer?, size: Int, output: CABIBufferOut, outputSize: UnsafeMutablePointer<Int>?,
    options: UnsafePointer<CChar>?, progress: CABIProgressFunction?, user: UnsafeMutableRawPointer?,
    report: CABIReportOut
  ) -> Int32 {
    CABICall.run(report) {
      try CABICall.prepare(output, outputSize)
      let bytes = try CABICall.bytes(input, size, "input")
      let verbOptions = try CABICall.options(options)
      let session = CABIProgress(function: progress, user: user).session()
      let model = try session.load(bytes: bytes, name: "input buffer")
      let result = try body(session, model, verbOptions, "input buffer", nil)
      try CABICall.deliver(try session.serialize(model), output, outputSize)
      return result
    }
  }
}
