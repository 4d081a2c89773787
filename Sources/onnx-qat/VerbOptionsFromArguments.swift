import Foundation
import ONNXQAT

extension VerbOptions {
  /// The options of a command line by name, for the library's per-verb mapping: each option's
  /// key without the dashes; flags as `true`, repeatable options (`repeatable`) as arrays,
  /// others as their last value. Options in `excluded` (where results go: `output`, `report`,
  /// `json`, `explain`) are left out.
  init(
    _ arguments: ParsedArguments, excluded: Set<String> = ["output", "report", "json", "explain"],
    repeatable: Set<String> = ["exclude"]
  ) {
    var values: [String: JSONValue] = [:]
    for key in arguments.flags {
      values[String(key.drop(while: { $0 == "-" }))] = .bool(true)
    }
    for (key, given) in arguments.values {
      let name = String(key.drop(while: { $0 == "-" }))
      values[name] = repeatable.contains(name) ? .array(given.map(JSONValue.string)) : given.last.map(JSONValue.string)
    }
    self.init(values.filter { !excluded.contains($0.key) }, spelling: .commandLine)
  }
}

/// Runs the library's option mapping for a verb: its errors (a value out of range, an unknown
/// name, a bad recipe) are usage errors, printed with the verb's usage line (exit code 2).
func mappingOptions<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch ONNXQATError.badArgument(let message) {
    throw UsageError(message)
  }
}
