import Foundation

/// The one error type of onnx-qat. Messages are lowercase and name the file, node, tensor and
/// what was expected, so that a user can act on them without reading our code.
public enum ONNXQATError: Error, CustomStringConvertible, Equatable {
  /// A file could not be read or written (path, what failed, errno text).
  case io(path: String, reason: String)
  /// The bytes are not a parsable ONNX model.
  case malformedModel(path: String, reason: String)
  /// The model parsed but breaks a rule of the ONNX IR (undefined value, duplicate name, cycle, ...).
  case invalidModel(path: String, reason: String)
  /// A tensor's external data is unusable (escaping path, missing file, out-of-range offset).
  case externalData(path: String, tensor: String, reason: String)
  /// An IR edit was refused; the graph is unchanged.
  case refusedEdit(String)
  /// The caller asked for something that does not fit the input (bad flag value, unknown name).
  case badArgument(String)
  /// The caller cancelled the run (a `CancellationFlag` or Swift task cancellation); names the stage.
  case cancelled(stage: String)

  public var description: String {
    switch self {
    case .io(let path, let reason): return "\(path): \(reason)"
    case .malformedModel(let path, let reason): return "\(path): not a valid ONNX model: \(reason)"
    case .invalidModel(let path, let reason): return "\(path): invalid ONNX model: \(reason)"
    case .externalData(let path, let tensor, let reason):
      return "\(path): tensor '\(tensor)': external data: \(reason)"
    case .refusedEdit(let reason): return "refused edit: \(reason)"
    case .badArgument(let reason): return reason
    case .cancelled(let stage): return "cancelled during \(stage)"
    }
  }

  /// True for errors caused by the input (exit code 2 in the CLI), false for environment failures.
  public var isBadInput: Bool {
    switch self {
    case .io, .cancelled: return false
    default: return true
    }
  }
}
