import Foundation
import ONNXQAT

/// Turns `insert`'s flags (and its recipe) into `QuantizationOptions`. Flags given on the command
/// line win over the recipe, which wins over the preset.
enum InsertOptionParsing {
  static func options(_ arguments: ParsedArguments) throws -> QuantizationOptions {
    var preset = QuantizationPreset.ort
    if let name = arguments.value("--preset") {
      guard let parsed = QuantizationPreset(rawValue: name) else {
        throw UsageError("--preset must be ort, tensorrt or tflite, not '\(name)'")
      }
      preset = parsed
    }
    var options = QuantizationOptions(preset: preset)
    if let recipePath = arguments.value("--recipe") {
      let data = try readingInput { try Data(contentsOf: URL(fileURLWithPath: recipePath)) }
      options = try Recipe.parse(data, path: recipePath).apply(to: options, presetGiven: arguments.has("--preset"))
    }
    if let name = arguments.value("--method") {
      guard let method = CalibrationMethod(rawValue: name) else {
        throw UsageError("--method must be minmax, percentile, entropy or mse, not '\(name)'")
      }
      options.calibration.method = method
    }
    if let text = arguments.value("--percentile") {
      guard let value = Double(text), value > 0, value <= 100 else {
        throw UsageError("--percentile must be a number in (0, 100], not '\(text)'")
      }
      options.calibration.percentile = value
    }
    if arguments.has("--moving-average") { options.calibration.movingAverage = true }
    if let text = arguments.value("--calib-samples") {
      guard let count = Int(text), count > 0 else { throw UsageError("--calib-samples must be a positive number") }
      options.calibration.maxSamples = count
    }
    if let name = arguments.value("--activations") {
      guard ["uint8", "int8", "uint16", "int16"].contains(name), let type = QuantType(name: name) else {
        throw UsageError("--activations must be uint8, int8, uint16 or int16, not '\(name)'")
      }
      options.activationType = type
    }
    if let name = arguments.value("--weights") {
      guard ["int8", "int4"].contains(name), let type = QuantType(name: name, restricted: true) else {
        throw UsageError("--weights must be int8 or int4, not '\(name)'")
      }
      options.weightType = type
    }
    if let text = arguments.value("--block-size") {
      guard let size = Int(text), size >= 2 else { throw UsageError("--block-size must be a number of at least 2") }
      options.blockSize = size
    }
    if arguments.has("--per-tensor") { options.perChannel = false }
    if arguments.has("--reduce-range") { options.reduceRange = true }
    if let name = arguments.value("--weights-form") {
      guard let form = QuantizationOptions.WeightsForm(rawValue: name) else {
        throw UsageError("--weights-form must be qdq or dq, not '\(name)'")
      }
      options.weightsForm = form
    }
    options.exclude += arguments.all("--exclude")
    if arguments.has("--keep-io-float") { options.keepIOFloat = true }
    return options
  }
}
