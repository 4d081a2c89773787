/// JSON values written as Swift literals, so options by name read like JSON:
/// `["calib": "synthetic:4", "calib-samples": 4, "exclude": ["Softmax"], "keep-io-float": true]`.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
  ExpressibleByFloatLiteral, ExpressibleByArrayLiteral
{
  /// A string value.
  public init(stringLiteral value: String) { self = .string(value) }
  /// A boolean value.
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  /// A number value.
  public init(integerLiteral value: Int) { self = .number(Double(value)) }
  /// A number value.
  public init(floatLiteral value: Double) { self = .number(value) }
  /// An array value.
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }

  /// The value as a user wrote it: strings bare, integral numbers without a fraction.
  public var plainText: String {
    switch self {
    case .null: return "null"
    case .bool(let value): return value ? "true" : "false"
    case .number(let value):
      if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
      return "\(value)"
    case .string(let text): return text
    case .array(let items): return "[" + items.map(\.plainText).joined(separator: ", ") + "]"
    case .object: return "{...}"
    }
  }
}
