import Foundation

/// Where `insert` and `verify` take their samples from: what `--calib` names (a folder or
/// `synthetic:N`), arrays in memory, or a closure that makes sample `i` of `count`.
public enum CalibrationInput {
  /// A folder of `.npz` samples or `test_data_set_*` folders, or `synthetic:N`.
  case spec(String)
  /// Samples in memory; each maps graph input names to tensors.
  case samples([[String: HostTensor]])
  /// `count` samples made on demand by `next(i)`.
  case generator(count: Int, next: (Int) throws -> [String: HostTensor])

  /// True for `synthetic:N` (the scales are then not meaningful, and the insert report says so).
  public var isSynthetic: Bool {
    if case .spec(let spec) = self { return spec.hasPrefix("synthetic:") }
    return false
  }

  /// A fresh source over the samples, for `model`.
  public func makeSource(for model: Model) throws -> CalibrationSource {
    switch self {
    case .spec(let spec):
      do {
        return try CalibrationSources.make(spec: spec, model: model)
      } catch ONNXQATError.io(let path, let reason) {
        throw ONNXQATError.badArgument("\(path): \(reason)")
      }
    case .samples(let samples): return ArrayCalibrationSource(samples)
    case .generator(let count, let next): return ClosureCalibrationSource(count: count, next: next)
    }
  }
}
