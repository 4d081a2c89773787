import Foundation

/// Makes the calibration source a command line names: `synthetic:N` (N standard normal samples)
/// or the path of a folder of samples (see `FolderCalibrationSource`).
public enum CalibrationSources {
  public static func make(spec: String, model: Model) throws -> CalibrationSource {
    if spec.hasPrefix("synthetic:") {
      let text = spec.dropFirst("synthetic:".count)
      guard let count = Int(text), count > 0 else {
        throw ONNXQATError.badArgument(
          "calibration source '\(spec)': expected synthetic:N with N a positive number of samples")
      }
      let source = SyntheticCalibrationSource(model: model, count: count)
      try source.validate()
      return source
    }
    guard !spec.isEmpty else {
      throw ONNXQATError.badArgument("calibration source is empty: expected a folder or synthetic:N")
    }
    return try FolderCalibrationSource(folder: spec, model: model)
  }
}
