import Foundation

/// What `insert`'s options by name say: the quantization options and the calibration source.
public struct InsertSettings: Sendable {
  /// The quantization options: preset, then recipe, then the other options, each winning over
  /// the one before.
  public var quantization: QuantizationOptions
  /// `calib`: a folder of samples or `synthetic:N`, when given.
  public var calibration: String?
}

extension VerbOptions {
  /// The keys `insert` takes (its command-line flags without dashes, except `output`, `report`,
  /// `json` and `explain`, which say where results go).
  public static let insertKeys: Set<String> = [
    "calib", "calib-samples", "method", "percentile", "moving-average", "preset", "recipe", "activations", "weights",
    "block-size", "per-tensor", "reduce-range", "weights-form", "exclude", "keep-io-float",
  ]

  /// `insert`'s options: the preset, then the recipe file (`recipe`), then every other key.
  /// Calibration runs on up to 8 threads.
  public func insertSettings() throws -> InsertSettings {
    try requireKnown(Self.insertKeys, verb: "insert")
    let presetNames = QuantizationPreset.allCases.map(\.rawValue)
    let preset = try choice("preset", presetNames, as: QuantizationPreset.self) ?? .ort
    var options = QuantizationOptions(preset: preset)
    if let recipePath = try string("recipe") {
      let data: Data
      do {
        data = try Data(contentsOf: URL(fileURLWithPath: recipePath))
      } catch {
        throw ONNXQATError.badArgument("recipe \(recipePath): cannot read the file: \(error.localizedDescription)")
      }
      options = try Recipe.parse(data, path: recipePath).apply(to: options, presetGiven: values["preset"] != nil)
    }
    let methods = CalibrationMethod.allCases.map(\.rawValue)
    if let method = try choice("method", methods, as: CalibrationMethod.self) { options.calibration.method = method }
    if let value = try number("percentile", expected: "a number in (0, 100]") {
      guard value > 0, value <= 100 else { throw invalid("percentile", "a number in (0, 100]") }
      options.calibration.percentile = value
    }
    if try flag("moving-average") { options.calibration.movingAverage = true }
    if let count = try integer("calib-samples", minimum: 1, expected: "a positive number") {
      options.calibration.maxSamples = count
    }
    if let name = try string("activations") {
      let names = ["uint8", "int8", "uint16", "int16"]
      guard names.contains(name), let type = QuantType(name: name) else {
        throw invalid("activations", oxfordOr(names))
      }
      options.activationType = type
    }
    if let name = try string("weights") {
      guard ["int8", "int4"].contains(name), let type = QuantType(name: name, restricted: true) else {
        throw invalid("weights", "int8 or int4")
      }
      options.weightType = type
    }
    if let size = try integer("block-size", minimum: 2, expected: "a number of at least 2") { options.blockSize = size }
    if try flag("per-tensor") { options.perChannel = false }
    if try flag("reduce-range") { options.reduceRange = true }
    if let form = try choice("weights-form", ["qdq", "dq"], as: QuantizationOptions.WeightsForm.self) {
      options.weightsForm = form
    }
    options.exclude += try strings("exclude")
    if try flag("keep-io-float") { options.keepIOFloat = true }
    options.calibration.executionOptions.threads = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    return InsertSettings(quantization: options, calibration: try string("calib"))
  }
}
