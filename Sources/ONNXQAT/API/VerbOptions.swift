import Foundation

/// A verb's options by name, as the command line, a JSON object (the C ABI) or a Swift
/// dictionary gives them: the keys are the command-line flag names without the dashes in front
/// (`"calib"`, `"method"`, `"weights-form"`, `"exclude"`, `"keep-io-float"`, `"target"`, ...), the
/// same names a recipe uses. One mapping per verb turns them into the library's option types
/// (`quantizationOptions()`, `loweringOptions()`, `verifySettings()`, `externalDataPolicy()`), so
/// the CLI and the C ABI share one parser and one set of messages.
///
/// Values: a flag is `true` (JSON `true`; `false` means not given), a value is a string or a
/// number (`"calib-samples": 4` and `"4"` alike), a repeatable option (`exclude`) an array of
/// strings or a single string. Errors name the key as the caller wrote it (`--method` on the
/// command line, `'method'` elsewhere) and what was expected; unknown keys are an error.
public struct VerbOptions: Sendable, Equatable, ExpressibleByDictionaryLiteral {
  /// How keys are named in messages: `--key` for the command line, `'key'` for JSON and Swift.
  public enum Spelling: Sendable, Equatable {
    case commandLine
    case name
  }

  /// The options, by key.
  public private(set) var values: [String: JSONValue]
  /// How messages name the keys.
  public var spelling: Spelling

  /// Options from a dictionary of keys and values.
  public init(_ values: [String: JSONValue] = [:], spelling: Spelling = .name) {
    self.values = values
    self.spelling = spelling
  }

  /// Options written as a Swift dictionary literal: `["calib": "synthetic:4", "keep-io-float": true]`.
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self.init(Dictionary(elements, uniquingKeysWith: { $1 }))
  }

  /// Options from a JSON object (`{"method": "entropy", "exclude": ["Softmax"]}`); an empty or
  /// absent text is no options.
  public init(json text: String?) throws {
    guard let text, !text.allSatisfy(\.isWhitespace) else {
      self.init([String: JSONValue]())
      return
    }
    guard case .object(let object)? = JSONValue.parse(Data(text.utf8)) else {
      throw ONNXQATError.badArgument("options: not a JSON object: \(text.prefix(80))")
    }
    self.init(object)
  }

  /// The value of `key`, if given.
  public subscript(key: String) -> JSONValue? {
    get { values[key] }
    set { values[key] = newValue }
  }

  /// The key as messages name it.
  public func label(_ key: String) -> String { spelling == .commandLine ? "--" + key : "'" + key + "'" }

  /// Throws for the first key (in sorted order) that is not in `known`, naming the verb.
  public func requireKnown(_ known: Set<String>, verb: String) throws {
    for key in values.keys.sorted() where !known.contains(key) {
      throw ONNXQATError.badArgument(
        "\(verb): unknown option \(label(key)) (known: \(known.sorted().joined(separator: ", ")))")
    }
  }

  /// The error for `key`: `--key must be EXPECTED, not 'VALUE'`.
  public func invalid(_ key: String, _ expected: String) -> ONNXQATError {
    let given = values[key].map { ", not '\($0.plainText)'" } ?? ""
    return ONNXQATError.badArgument("\(label(key)) must be \(expected)\(given)")
  }

  /// A string value (numbers are given as their text).
  public func string(_ key: String) throws -> String? {
    switch values[key] {
    case nil, .null?: return nil
    case .string(let text)?: return text
    case .number?: return values[key]?.plainText
    default: throw invalid(key, "a string")
    }
  }

  /// A string value that must be one of `choices`, as its raw-value type.
  public func choice<T: RawRepresentable>(_ key: String, _ choices: [String], as type: T.Type) throws -> T?
  where T.RawValue == String {
    guard let text = try string(key) else { return nil }
    guard choices.contains(text), let value = T(rawValue: text) else { throw invalid(key, oxfordOr(choices)) }
    return value
  }

  /// A flag: true when given as `true` (or given without a value on the command line).
  public func flag(_ key: String) throws -> Bool {
    switch values[key] {
    case nil, .null?: return false
    case .bool(let value)?: return value
    default: throw invalid(key, "true or false")
    }
  }

  /// An integer of at least `minimum`; `expected` describes it in the message.
  public func integer(_ key: String, minimum: Int, expected: String) throws -> Int? {
    guard let text = try string(key) else { return nil }
    guard let value = Int(text), value >= minimum else { throw invalid(key, expected) }
    return value
  }

  /// A finite number.
  public func number(_ key: String, expected: String) throws -> Double? {
    guard let text = try string(key) else { return nil }
    guard let value = Double(text), value.isFinite else { throw invalid(key, expected) }
    return value
  }

  /// A repeatable value: an array of strings, or one string.
  public func strings(_ key: String) throws -> [String] {
    switch values[key] {
    case nil, .null?: return []
    case .string(let text)?: return [text]
    case .array(let items)?:
      return try items.map { item in
        guard case .string(let text) = item else { throw invalid(key, "an array of strings") }
        return text
      }
    default: throw invalid(key, "an array of strings")
    }
  }

  /// "a, b or c".
  func oxfordOr(_ choices: [String]) -> String {
    guard choices.count > 1, let last = choices.last else { return choices.first ?? "" }
    return choices.dropLast().joined(separator: ", ") + " or " + last
  }
}
