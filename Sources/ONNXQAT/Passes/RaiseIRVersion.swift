import Foundation

/// Raises a model's IR version to the lowest one its ai.onnx opset needs (opset 13 needs IR 7,
/// 21 needs IR 10, ...). Leaving IR 3 also drops the initializers that IR 3 had to list among the
/// main graph's inputs: from IR 4 on such an input would be an overridable default, not a weight.
/// ```
/// before: <ir_version: 3, opset_import: ["" : 13]>  g (float[1,3] x, float[3,3] w) => (y) <float[3,3] w = ...>
/// after:  <ir_version: 7, opset_import: ["" : 13]>  g (float[1,3] x) => (y) <float[3,3] w = ...>
/// ```
/// Skip cases: 1. the IR version is already high enough; 2. a model with training_info, whose
/// graphs name the main graph's inputs (the version is raised, the inputs stay).
public struct RaiseIRVersion: ModelPass {
  public let name = "raise-ir-version"
  public init() {}

  /// The lowest IR version that carries ai.onnx opset `opset` (ONNX's versioning table).
  public static func minimumIRVersion(forOpset opset: Int64) -> Int64 {
    switch opset {
    case ...8: return 3
    case 9: return 4
    case 10: return 5
    case 11: return 6
    case 12...14: return 7
    case 15...18: return 8
    case 19...20: return 9
    case 21...22: return 10
    default: return 11
    }
  }

  public func run(_ model: Model, log: RewriteLog) throws -> PassResult {
    let current = model.irVersion ?? 3
    let needed = Self.minimumIRVersion(forOpset: model.opsetVersion("") ?? 1)
    guard current < needed else { return PassResult(model: model, modified: false) }
    model.irVersion = needed
    var dropped = 0
    if current < 4 && model.trainingInfo.isEmpty {
      let graph = model.graph
      let before = graph.inputs.count
      graph.inputs.removeAll { $0.hasInitializer }
      dropped = before - graph.inputs.count
    }
    log.note(
      name,
      "ir_version \(current) -> \(needed)" + (dropped > 0 ? "; \(dropped) initializers no longer listed as inputs" : "")
    )
    return PassResult(model: model, modified: true)
  }
}
