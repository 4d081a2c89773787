/// An ONNX tensor element type (`TensorProto.DataType`). A struct rather than an enum so that
/// element types newer than this build still load and save: the wire carries an int32.
public struct DataType: RawRepresentable, Hashable, Sendable, Comparable {
  public var rawValue: Int32
  public init(rawValue: Int32) { self.rawValue = rawValue }

  public static let undefined = DataType(rawValue: 0)
  public static let float = DataType(rawValue: 1)
  public static let uint8 = DataType(rawValue: 2)
  public static let int8 = DataType(rawValue: 3)
  public static let uint16 = DataType(rawValue: 4)
  public static let int16 = DataType(rawValue: 5)
  public static let int32 = DataType(rawValue: 6)
  public static let int64 = DataType(rawValue: 7)
  public static let string = DataType(rawValue: 8)
  public static let bool = DataType(rawValue: 9)
  public static let float16 = DataType(rawValue: 10)
  public static let double = DataType(rawValue: 11)
  public static let uint32 = DataType(rawValue: 12)
  public static let uint64 = DataType(rawValue: 13)
  public static let complex64 = DataType(rawValue: 14)
  public static let complex128 = DataType(rawValue: 15)
  public static let bfloat16 = DataType(rawValue: 16)
  public static let float8e4m3fn = DataType(rawValue: 17)
  public static let float8e4m3fnuz = DataType(rawValue: 18)
  public static let float8e5m2 = DataType(rawValue: 19)
  public static let float8e5m2fnuz = DataType(rawValue: 20)
  public static let uint4 = DataType(rawValue: 21)
  public static let int4 = DataType(rawValue: 22)
  public static let float4e2m1 = DataType(rawValue: 23)
  public static let float8e8m0 = DataType(rawValue: 24)
  public static let uint2 = DataType(rawValue: 25)
  public static let int2 = DataType(rawValue: 26)
  public static let float6e2m3 = DataType(rawValue: 27)
  public static let float6e3m2 = DataType(rawValue: 28)

  private static let table: [(DataType, String, Int)] = [
    (.float, "float", 32), (.uint8, "uint8", 8), (.int8, "int8", 8), (.uint16, "uint16", 16),
    (.int16, "int16", 16), (.int32, "int32", 32), (.int64, "int64", 64), (.string, "string", 0),
    (.bool, "bool", 8), (.float16, "float16", 16), (.double, "double", 64),
    (.uint32, "uint32", 32), (.uint64, "uint64", 64), (.complex64, "complex64", 64),
    (.complex128, "complex128", 128), (.bfloat16, "bfloat16", 16),
    (.float8e4m3fn, "float8e4m3fn", 8), (.float8e4m3fnuz, "float8e4m3fnuz", 8),
    (.float8e5m2, "float8e5m2", 8), (.float8e5m2fnuz, "float8e5m2fnuz", 8),
    (.uint4, "uint4", 4), (.int4, "int4", 4), (.float4e2m1, "float4e2m1", 4),
    (.float8e8m0, "float8e8m0", 8), (.uint2, "uint2", 2), (.int2, "int2", 2),
    (.float6e2m3, "float6e2m3", 6), (.float6e3m2, "float6e3m2", 6),
  ]

  /// The name ONNX's text syntax uses ("float", "uint8", "float8e4m3fn", ...); `type<N>` for
  /// element types this build does not know.
  public var name: String {
    Self.table.first { $0.0 == self }?.1 ?? (self == .undefined ? "undefined" : "type\(rawValue)")
  }

  /// Looks up a type by its text-syntax name.
  public init?(name: String) {
    guard let entry = Self.table.first(where: { $0.1 == name }) else { return nil }
    self = entry.0
  }

  /// Bits per element in `raw_data` (4 for int4, 2 for int2, 6 for float6, densely packed from
  /// the lowest bit up); nil for strings and unknown types.
  public var bitWidth: Int? {
    guard let bits = Self.table.first(where: { $0.0 == self })?.2, bits > 0 else { return nil }
    return bits
  }

  public var isFloatingPoint: Bool {
    [
      .float, .double, .float16, .bfloat16, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2,
      .float8e5m2fnuz, .float4e2m1, .float8e8m0, .float6e2m3, .float6e3m2,
    ].contains(self)
  }

  public static func < (lhs: DataType, rhs: DataType) -> Bool { lhs.rawValue < rhs.rawValue }
}
