import Foundation

/// Encodes an `Encodable` value as the JSON text `JSONReport` promises: pretty-printed with two
/// spaces, `"key" : value`, keys sorted by their UTF-8 bytes, slashes not escaped, integers and
/// floating-point numbers as their Swift `description` without a trailing `.0`, infinities and
/// NaN as the strings "inf", "-inf" and "nan". That is byte for byte what Foundation's
/// `JSONEncoder` writes with `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]` and that
/// non-conforming float strategy (`JSONTextEncoderTests` compares them on every report), at a
/// fraction of its cost: a 40,000-tensor insert report took Foundation over a second.
///
/// The value is encoded into a small tree (objects keep their keys in encoding order, a key
/// encoded twice keeps its last value) that is then written in one pass.
enum JSONTextEncoder {
  /// The JSON text of `value`.
  static func encode(_ value: some Encodable) throws -> Data {
    let encoder = TreeEncoder(codingPath: [])
    try value.encode(to: encoder)
    var writer = Writer()
    writer.write(encoder.tree ?? .object(ObjectBox()), indent: 0)
    return Data(writer.bytes)
  }

  /// One encoded value.
  enum Tree {
    /// Numbers, booleans and null, as their JSON text.
    case literal(String)
    case string(String)
    case array(ArrayBox)
    case object(ObjectBox)
  }

  /// An array's elements, filled while its container is alive.
  final class ArrayBox {
    var items: [Tree] = []
  }

  /// An object's members in encoding order.
  final class ObjectBox {
    var members: [(key: String, value: Tree)] = []
    init() { members.reserveCapacity(16) }
  }

  /// The JSON text of a floating-point value (non-finite ones become strings).
  static func number<F: BinaryFloatingPoint & CustomStringConvertible>(_ value: F) -> Tree {
    if value.isNaN { return .string("nan") }
    if value.isInfinite { return .string(value < 0 ? "-inf" : "inf") }
    let text = value.description
    return .literal(text.hasSuffix(".0") ? String(text.dropLast(2)) : text)
  }

  /// The types `primitive` converts. Comparing metatypes is cheap, where a failed `as?` cast
  /// searches the value's conformances; most values a report encodes are structs.
  private static let primitiveTypes: Set<ObjectIdentifier> = Set(
    ([String.self, Bool.self, Int.self, Float.self, Double.self, Int32.self, Int64.self, UInt8.self, Int8.self]
      + [UInt.self, UInt64.self, UInt32.self, Int16.self, UInt16.self] as [Any.Type]).map { ObjectIdentifier($0) })

  /// The tree of a value whose type has a JSON form of its own, or nil to encode it generically.
  static func primitive<Candidate>(_ value: Candidate) -> Tree? {
    guard primitiveTypes.contains(ObjectIdentifier(Candidate.self)) else { return nil }
    switch value {
    case let v as String: return .string(v)
    case let v as Bool: return .literal(v ? "true" : "false")
    case let v as Int: return .literal(String(v))
    case let v as Float: return number(v)
    case let v as Double: return number(v)
    case let v as Int32: return .literal(String(v))
    case let v as Int64: return .literal(String(v))
    case let v as UInt8: return .literal(String(v))
    case let v as Int8: return .literal(String(v))
    case let v as UInt: return .literal(String(v))
    case let v as UInt64: return .literal(String(v))
    case let v as UInt32: return .literal(String(v))
    case let v as Int16: return .literal(String(v))
    case let v as UInt16: return .literal(String(v))
    default: return nil
    }
  }

  /// The tree of any encodable value.
  static func tree(_ value: some Encodable, codingPath: [CodingKey]) throws -> Tree {
    if let tree = primitive(value) { return tree }
    let encoder = TreeEncoder(codingPath: codingPath)
    try value.encode(to: encoder)
    return encoder.tree ?? .object(ObjectBox())
  }

  /// The `Encoder` handed to `encode(to:)`: records the one container or value it is given.
  final class TreeEncoder: Encoder {
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// Where a super encoder's value goes as soon as it is set.
    let store: ((Tree) -> Void)?
    var tree: Tree? {
      didSet { if let tree, let store { store(tree) } }
    }

    init(codingPath: [CodingKey], store: ((Tree) -> Void)? = nil) {
      self.codingPath = codingPath
      self.store = store
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
      if case .object(let box) = tree {
        return KeyedEncodingContainer(KeyedContainer(box: box, codingPath: codingPath))
      }
      let box = ObjectBox()
      tree = .object(box)
      return KeyedEncodingContainer(KeyedContainer(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
      if case .array(let box) = tree { return UnkeyedContainer(box: box, codingPath: codingPath) }
      let box = ArrayBox()
      tree = .array(box)
      return UnkeyedContainer(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { SingleValueContainer(encoder: self) }
  }

  /// The members of one object.
  struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: ObjectBox
    let codingPath: [CodingKey]

    mutating func encodeNil(forKey key: Key) throws { box.members.append((key.stringValue, .literal("null"))) }
    mutating func encode(_ value: Bool, forKey key: Key) throws {
      box.members.append((key.stringValue, .literal(value ? "true" : "false")))
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
      box.members.append((key.stringValue, .string(value)))
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
      box.members.append((key.stringValue, number(value)))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
      box.members.append((key.stringValue, number(value)))
    }
    mutating func encode(_ value: Int, forKey key: Key) throws {
      box.members.append((key.stringValue, .literal(String(value))))
    }
    mutating func encode(_ value: Int32, forKey key: Key) throws {
      box.members.append((key.stringValue, .literal(String(value))))
    }
    mutating func encode(_ value: Int64, forKey key: Key) throws {
      box.members.append((key.stringValue, .literal(String(value))))
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
      box.members.append((key.stringValue, try tree(value, codingPath: codingPath + [key])))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
      keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
      let nested = ObjectBox()
      box.members.append((key.stringValue, .object(nested)))
      return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
      let nested = ArrayBox()
      box.members.append((key.stringValue, .array(nested)))
      return UnkeyedContainer(box: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> Encoder { memberEncoder(key: "super", codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> Encoder {
      memberEncoder(key: key.stringValue, codingPath: codingPath + [key])
    }

    /// An encoder whose value becomes the member `key` (null until it is set).
    private func memberEncoder(key: String, codingPath: [CodingKey]) -> Encoder {
      let box = box
      let index = box.members.count
      box.members.append((key, .literal("null")))
      return TreeEncoder(codingPath: codingPath) { box.members[index].value = $0 }
    }
  }

  /// The elements of one array.
  struct UnkeyedContainer: UnkeyedEncodingContainer {
    let box: ArrayBox
    let codingPath: [CodingKey]
    var count: Int { box.items.count }

    mutating func encodeNil() throws { box.items.append(.literal("null")) }
    mutating func encode(_ value: Bool) throws { box.items.append(.literal(value ? "true" : "false")) }
    mutating func encode(_ value: String) throws { box.items.append(.string(value)) }
    mutating func encode(_ value: Double) throws { box.items.append(number(value)) }
    mutating func encode(_ value: Float) throws { box.items.append(number(value)) }
    mutating func encode(_ value: Int) throws { box.items.append(.literal(String(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
      box.items.append(try tree(value, codingPath: codingPath + [IndexKey(intValue: box.items.count)]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<
      NestedKey
    > {
      let nested = ObjectBox()
      box.items.append(.object(nested))
      return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
      let nested = ArrayBox()
      box.items.append(.array(nested))
      return UnkeyedContainer(box: nested, codingPath: codingPath)
    }

    mutating func superEncoder() -> Encoder {
      let box = box
      let index = box.items.count
      box.items.append(.literal("null"))
      return TreeEncoder(codingPath: codingPath) { box.items[index] = $0 }
    }
  }

  /// A single value.
  struct SingleValueContainer: SingleValueEncodingContainer {
    let encoder: TreeEncoder
    var codingPath: [CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.tree = .literal("null") }
    mutating func encode(_ value: Bool) throws { encoder.tree = .literal(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { encoder.tree = .string(value) }
    mutating func encode(_ value: Double) throws { encoder.tree = number(value) }
    mutating func encode(_ value: Float) throws { encoder.tree = number(value) }
    mutating func encode(_ value: Int) throws { encoder.tree = .literal(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.tree = try tree(value, codingPath: codingPath) }
  }

  /// The coding key of an array element.
  struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
  }

  /// Writes a tree as pretty-printed text.
  struct Writer {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1 << 16) }

    mutating func write(_ tree: Tree, indent: Int) {
      switch tree {
      case .literal(let text): bytes.append(contentsOf: text.utf8)
      case .string(let text): writeString(text)
      case .array(let box):
        bytes.append(UInt8(ascii: "["))
        newline()
        if box.items.isEmpty {
          newline(indent: indent)
        } else {
          for (index, item) in box.items.enumerated() {
            if index > 0 {
              bytes.append(UInt8(ascii: ","))
              newline()
            }
            spaces(indent + 2)
            write(item, indent: indent + 2)
          }
          newline(indent: indent)
        }
        bytes.append(UInt8(ascii: "]"))
      case .object(let box):
        bytes.append(UInt8(ascii: "{"))
        newline()
        let members = Self.sortedMembers(box)
        if members.isEmpty {
          newline(indent: indent)
        } else {
          for (index, member) in members.enumerated() {
            if index > 0 {
              bytes.append(UInt8(ascii: ","))
              newline()
            }
            spaces(indent + 2)
            writeString(member.key)
            bytes.append(contentsOf: " : ".utf8)
            write(member.value, indent: indent + 2)
          }
          newline(indent: indent)
        }
        bytes.append(UInt8(ascii: "}"))
      }
    }

    /// The members sorted by key bytes; of a key encoded twice, the last value.
    static func sortedMembers(_ box: ObjectBox) -> [(key: String, value: Tree)] {
      let order = box.members.indices.sorted { a, b in
        let (x, y) = (box.members[a].key, box.members[b].key)
        if x == y { return a < b }
        return x.utf8.lexicographicallyPrecedes(y.utf8)
      }
      var sorted: [(key: String, value: Tree)] = []
      sorted.reserveCapacity(order.count)
      for index in order {
        if let last = sorted.last, last.key == box.members[index].key {
          sorted[sorted.count - 1] = box.members[index]
        } else {
          sorted.append(box.members[index])
        }
      }
      return sorted
    }

    mutating func newline(indent: Int = -1) {
      bytes.append(UInt8(ascii: "\n"))
      if indent >= 0 { spaces(indent) }
    }

    private static let blanks = [UInt8](repeating: UInt8(ascii: " "), count: 64)

    mutating func spaces(_ count: Int) {
      var left = count
      while left > 0 {
        let run = Swift.min(left, Self.blanks.count)
        bytes.append(contentsOf: Self.blanks[0..<run])
        left -= run
      }
    }

    mutating func writeString(_ text: String) {
      bytes.append(UInt8(ascii: "\""))
      // Most strings need no escape: copied whole.
      if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
        bytes.append(contentsOf: text.utf8)
        bytes.append(UInt8(ascii: "\""))
        return
      }
      for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
        case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
        case 0x08: bytes.append(contentsOf: #"\b"#.utf8)
        case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
        case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
        case 0x0C: bytes.append(contentsOf: #"\f"#.utf8)
        case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
        case 0..<0x20:
          let hex = Array("0123456789abcdef".utf8)
          bytes.append(contentsOf: #"\u00"#.utf8)
          bytes.append(hex[Int(byte >> 4)])
          bytes.append(hex[Int(byte & 15)])
        default: bytes.append(byte)
        }
      }
      bytes.append(UInt8(ascii: "\""))
    }
  }
}
