// libFuzzer target for the model loader (built by Fuzz/run.sh, not by SwiftPM).
//
// Every input goes through `ModelLoader.load(bytes:)`; a model that loads is also serialized,
// printed as ONNX text and summarized. Thrown errors are the expected answer to bad input;
// crashes, traps, hangs and leaks are bugs.
import Foundation
import ONNXQAT

/// Keeps the optimizer from discarding the work done on a loaded model.
nonisolated(unsafe) private var sink = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func loaderFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = size > 0 && data != nil ? Data(bytes: data!, count: size) : Data()
  guard let model = try? ModelLoader.load(bytes: bytes, name: "<fuzz>", baseDirectory: nil) else { return 0 }
  if let serialized = try? ModelSaver.serialize(model) { sink &+= serialized.count }
  sink &+= TextPrinter().print(model).utf8.count
  sink &+= ModelSummary(model).nodeCount
  return 0
}
