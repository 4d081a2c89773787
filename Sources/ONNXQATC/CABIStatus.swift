import Foundation
import ONNXQAT

/// The status codes of `onnxqat.h` (`onnxqat_status`): 0, 1 and 2 are the command line's exit
/// codes; 3 is a cancelled call.
enum CABIStatus: Int32 {
  case ok = 0
  case failure = 1
  case badInput = 2
  case cancelled = 3

  /// The status for an error thrown by the library.
  init(_ error: Error) {
    switch error {
    case ONNXQATError.cancelled: self = .cancelled
    case let error as ONNXQATError: self = error.isBadInput ? .badInput : .failure
    default: self = .failure
    }
  }

  /// The name in error reports.
  var name: String {
    switch self {
    case .ok: return "ok"
    case .failure: return "failure"
    case .badInput: return "bad-input"
    case .cancelled: return "cancelled"
    }
  }
}

/// What a failed call returns through `report_json` (Schemas/error.schema.json):
/// `{"error": {"code": 2, "status": "bad-input", "kind": "malformed-model", "message": "..."}}`.
struct CABIErrorReport: JSONReport {
  struct Body: Encodable {
    var code: Int32
    var status: String
    var kind: String
    var message: String
  }

  var error: Body

  init(_ error: Error) {
    let status = CABIStatus(error)
    self.error = Body(code: status.rawValue, status: status.name, kind: Self.kind(error), message: "\(error)")
  }

  init(status: CABIStatus, kind: String, message: String) {
    error = Body(code: status.rawValue, status: status.name, kind: kind, message: message)
  }

  static func kind(_ error: Error) -> String {
    guard let error = error as? ONNXQATError else { return "internal" }
    switch error {
    case .io: return "io"
    case .malformedModel: return "malformed-model"
    case .invalidModel: return "invalid-model"
    case .externalData: return "external-data"
    case .refusedEdit: return "refused-edit"
    case .badArgument: return "bad-argument"
    case .cancelled: return "cancelled"
    }
  }
}
