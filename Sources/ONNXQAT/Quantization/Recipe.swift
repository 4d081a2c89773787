import Foundation

/// A quantization recipe: a JSON file (Schemas/recipe.schema.json) that says everything the
/// `insert` flags say, under the same names without the dashes in front, plus overrides per op
/// type (`op-types`) and per tensor (`tensors`):
///
/// ```json
/// {"preset": "ort", "method": "percentile", "percentile": 99.99, "weights-form": "dq",
///  "exclude": ["Softmax"],
///  "op-types": {"MatMul": {"per-channel-axis": -1}},
///  "tensors": {"logits": {"keep-float": true}, "input": {"scale": 0.0078125, "zero-point": 128}}}
/// ```
/// Parsing checks every field and names the first one that is wrong, with what was expected.
public struct Recipe: Equatable, Sendable {
  public var preset: QuantizationPreset?
  public var method: CalibrationMethod?
  public var percentile: Double?
  public var movingAverage: Bool?
  public var calibrationSamples: Int?
  public var activations: QuantType?
  public var weights: QuantType?
  public var blockSize: Int?
  public var perTensor: Bool?
  public var reduceRange: Bool?
  public var weightsForm: QuantizationOptions.WeightsForm?
  public var exclude: [String] = []
  public var keepIOFloat: Bool?
  public var opTypes: [String: TensorOverride] = [:]
  public var tensors: [String: TensorOverride] = [:]

  public init() {}

  static let topLevelKeys: Set<String> = [
    "$schema", "preset", "method", "percentile", "moving-average", "calib-samples", "activations", "weights",
    "block-size", "per-tensor", "reduce-range", "weights-form", "exclude", "keep-io-float", "op-types", "tensors",
  ]
  static let overrideKeys: Set<String> = ["keep-float", "type", "symmetric", "per-channel-axis", "scale", "zero-point"]

  /// Parses a recipe; `path` names the file in errors.
  public static func parse(_ data: Data, path: String) throws -> Recipe {
    func fail(_ field: String, _ expected: String) -> ONNXQATError {
      ONNXQATError.badArgument("recipe \(path): field '\(field)': expected \(expected)")
    }
    guard case .object(let root)? = JSONValue.parse(data) else {
      throw ONNXQATError.badArgument("recipe \(path): not a JSON object")
    }
    var recipe = Recipe()
    for key in root.keys.sorted() where !topLevelKeys.contains(key) {
      throw fail(
        key, "no such field (known: \(topLevelKeys.filter { $0 != "$schema" }.sorted().joined(separator: ", ")))")
    }
    func string(_ key: String, _ choices: [String]) throws -> String? {
      guard let raw = root[key] else { return nil }
      guard case .string(let text) = raw, choices.contains(text) else {
        throw fail(key, "one of " + choices.joined(separator: ", "))
      }
      return text
    }
    func bool(_ object: [String: JSONValue], _ key: String, _ field: String) throws -> Bool? {
      guard let raw = object[key] else { return nil }
      guard case .bool(let value) = raw else { throw fail(field, "true or false") }
      return value
    }
    func integer(_ object: [String: JSONValue], _ key: String, _ field: String, minimum: Int) throws -> Int? {
      guard let raw = object[key] else { return nil }
      guard case .number(let value) = raw, value == value.rounded(), value >= Double(minimum), value < 1e15 else {
        throw fail(field, "an integer of at least \(minimum)")
      }
      return Int(value)
    }
    func number(_ object: [String: JSONValue], _ key: String, _ field: String) throws -> Double? {
      guard let raw = object[key] else { return nil }
      guard case .number(let value) = raw, value.isFinite else { throw fail(field, "a number") }
      return value
    }
    recipe.preset = try string("preset", QuantizationPreset.allCases.map(\.rawValue)).flatMap(QuantizationPreset.init)
    recipe.method = try string("method", CalibrationMethod.allCases.map(\.rawValue)).flatMap(CalibrationMethod.init)
    if let value = try number(root, "percentile", "percentile") {
      guard value > 0 && value <= 100 else { throw fail("percentile", "a number in (0, 100]") }
      recipe.percentile = value
    }
    recipe.movingAverage = try bool(root, "moving-average", "moving-average")
    recipe.calibrationSamples = try integer(root, "calib-samples", "calib-samples", minimum: 1)
    recipe.activations = try string("activations", ["uint8", "int8", "uint16", "int16"]).flatMap {
      QuantType(name: $0)
    }
    recipe.weights = try string("weights", ["int8", "int4"]).flatMap { QuantType(name: $0, restricted: true) }
    recipe.blockSize = try integer(root, "block-size", "block-size", minimum: 2)
    recipe.perTensor = try bool(root, "per-tensor", "per-tensor")
    recipe.reduceRange = try bool(root, "reduce-range", "reduce-range")
    recipe.weightsForm = try string("weights-form", ["qdq", "dq"]).flatMap(QuantizationOptions.WeightsForm.init)
    recipe.keepIOFloat = try bool(root, "keep-io-float", "keep-io-float")
    if let raw = root["exclude"] {
      guard case .array(let items) = raw else { throw fail("exclude", "an array of node names or op types") }
      recipe.exclude = try items.map { item in
        guard case .string(let name) = item else { throw fail("exclude", "an array of node names or op types") }
        return name
      }
    }
    for group in ["op-types", "tensors"] {
      guard let raw = root[group] else { continue }
      guard case .object(let entries) = raw else { throw fail(group, "an object of overrides by name") }
      for (name, rawOverride) in entries.sorted(by: { $0.key < $1.key }) {
        let prefix = "\(group).\(name)"
        guard case .object(let fields) = rawOverride else { throw fail(prefix, "an object") }
        for key in fields.keys.sorted() where !overrideKeys.contains(key) {
          throw fail("\(prefix).\(key)", "no such field (known: \(overrideKeys.sorted().joined(separator: ", ")))")
        }
        var override = TensorOverride()
        override.keepFloat = try bool(fields, "keep-float", "\(prefix).keep-float") ?? false
        override.symmetric = try bool(fields, "symmetric", "\(prefix).symmetric")
        if let rawType = fields["type"] {
          guard case .string(let typeName) = rawType, let type = QuantType(name: typeName) else {
            throw fail("\(prefix).type", "one of uint8, int8, uint16, int16, int4, uint4")
          }
          override.type = type
        }
        override.perChannelAxis = try integer(fields, "per-channel-axis", "\(prefix).per-channel-axis", minimum: -1)
        if let scale = try number(fields, "scale", "\(prefix).scale") {
          guard scale > 0 else { throw fail("\(prefix).scale", "a positive number") }
          override.scale = Float(scale)
        }
        if let zeroPoint = try integer(fields, "zero-point", "\(prefix).zero-point", minimum: -32768) {
          override.zeroPoint = Int32(clamping: zeroPoint)
        }
        if override.zeroPoint != nil && override.scale == nil {
          throw fail("\(prefix).zero-point", "a scale beside it")
        }
        if group == "op-types" { recipe.opTypes[name] = override } else { recipe.tensors[name] = override }
      }
    }
    return recipe
  }

  /// `options` with the recipe's settings; a preset from the recipe applies unless the command
  /// line gave one (`presetGiven`).
  public func apply(to base: QuantizationOptions, presetGiven: Bool) -> QuantizationOptions {
    var options = base
    if let preset, !presetGiven { options = QuantizationOptions(preset: preset) }
    if let method { options.calibration.method = method }
    if let percentile { options.calibration.percentile = percentile }
    if let movingAverage { options.calibration.movingAverage = movingAverage }
    if let calibrationSamples { options.calibration.maxSamples = calibrationSamples }
    if let activations { options.activationType = activations }
    if let weights { options.weightType = weights }
    if let blockSize { options.blockSize = blockSize }
    if let perTensor { options.perChannel = !perTensor }
    if let reduceRange { options.reduceRange = reduceRange }
    if let weightsForm { options.weightsForm = weightsForm }
    if let keepIOFloat { options.keepIOFloat = keepIOFloat }
    options.exclude += exclude
    options.opTypeOverrides.merge(opTypes) { $1 }
    options.tensorOverrides.merge(tensors) { $1 }
    return options
  }
}
