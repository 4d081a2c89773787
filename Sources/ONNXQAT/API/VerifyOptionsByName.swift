import Foundation

/// What `verify`'s options by name say: where the samples come from, how many, and how the
/// executor requantizes.
public struct VerifySettings: Sendable {
  /// `data` (or `calib`): a folder of samples or `synthetic:N`, when given.
  public var samples: String?
  /// `samples`: read at most this many.
  public var maxSamples: Int?
  /// The executor's options (`requant`).
  public var execution: ExecutionOptions
}

extension VerbOptions {
  /// The keys `verify` takes besides its models: `data`, `calib`, `samples`, `requant` (its
  /// command-line flags without dashes, except `qdq`, `int`, `float` and `json`).
  public static let verifyKeys: Set<String> = ["data", "calib", "samples", "requant"]

  /// `verify`'s options.
  public func verifySettings() throws -> VerifySettings {
    try requireKnown(Self.verifyKeys, verb: "verify")
    var execution = ExecutionOptions()
    if let mode = try requantization() { execution.requantization = mode }
    let limit = try integer("samples", minimum: 1, expected: "a positive number")
    return VerifySettings(
      samples: try string("data") ?? string("calib"), maxSamples: limit, execution: execution)
  }
}
