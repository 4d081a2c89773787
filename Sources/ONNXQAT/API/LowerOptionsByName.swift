import Foundation

extension VerbOptions {
  /// The keys `lower` takes: `target`, `requant`, `strict`, `int-io` (its command-line flags
  /// without dashes, except `output`, `report`, `json` and `explain`).
  public static let lowerKeys: Set<String> = ["target", "requant", "strict", "int-io"]

  /// `lower`'s options. `requant` accepts `float` only for now: lowering writes onnxruntime's
  /// float requantization.
  public func loweringOptions() throws -> LoweringOptions {
    try requireKnown(Self.lowerKeys, verb: "lower")
    var options = LoweringOptions()
    if let target = try choice("target", ["ort", "onnx"], as: LoweringOptions.Target.self) { options.target = target }
    if let mode = try requantization() {
      guard mode == .float else {
        throw ONNXQATError.badArgument(
          "\(label("requant")) fixed-point is not available yet; lower writes onnxruntime's float requantization")
      }
      options.requantization = mode
    }
    options.strict = try flag("strict")
    options.integerIO = try flag("int-io")
    return options
  }

  /// `requant`: float or fixed-point, when given (lower, verify and run).
  public func requantization() throws -> ExecutionOptions.Requantization? {
    try choice("requant", ["float", "fixed-point"], as: ExecutionOptions.Requantization.self)
  }
}
