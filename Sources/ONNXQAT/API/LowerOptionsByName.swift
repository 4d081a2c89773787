import Foundation

extension VerbOptions {
  /// The keys `lower` takes: `target`, `requant`, `strict`, `int-io` (its command-line flags
  /// without dashes, except `output`, `report`, `json` and `explain`).
  public static let lowerKeys: Set<String> = ["target", "requant", "strict", "int-io"]

  /// `lower`'s options: `target` (ort or onnx), `requant` (float, onnxruntime's arithmetic, or
  /// fixed-point, integer-only requantization after TFLite), and the flags `strict` and `int-io`.
  public func loweringOptions() throws -> LoweringOptions {
    try requireKnown(Self.lowerKeys, verb: "lower")
    var options = LoweringOptions()
    if let target = try choice("target", ["ort", "onnx"], as: LoweringOptions.Target.self) { options.target = target }
    if let mode = try requantization() { options.requantization = mode }
    options.strict = try flag("strict")
    options.integerIO = try flag("int-io")
    return options
  }

  /// `requant`: float or fixed-point, when given (lower, verify and run).
  public func requantization() throws -> ExecutionOptions.Requantization? {
    try choice("requant", ["float", "fixed-point"], as: ExecutionOptions.Requantization.self)
  }
}
