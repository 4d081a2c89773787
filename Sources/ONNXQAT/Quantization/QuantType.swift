import Foundation

/// An integer type that tensors are quantized to, with the range of values a scheme may use.
/// Symmetric weight schemes use the restricted range (int8 [-127, 127]) so that `-w` is
/// representable (DESIGN.md section 4).
public struct QuantType: Equatable, Hashable, Sendable, Codable {
  public var dataType: DataType
  public var qmin: Int32
  public var qmax: Int32

  public init(_ dataType: DataType, restricted: Bool = false) {
    self.dataType = dataType
    let (low, high): (Int32, Int32)
    switch dataType {
    case .int8: (low, high) = (-128, 127)
    case .uint8: (low, high) = (0, 255)
    case .int16: (low, high) = (-32768, 32767)
    case .uint16: (low, high) = (0, 65535)
    case .int4: (low, high) = (-8, 7)
    case .uint4: (low, high) = (0, 15)
    case .int32: (low, high) = (Int32.min, Int32.max)
    default: (low, high) = (0, 255)
    }
    self.qmin = restricted && dataType.isSigned && dataType != .int32 ? low + 1 : low
    self.qmax = high
  }

  public static let uint8 = QuantType(.uint8)
  public static let int8 = QuantType(.int8)
  public static let int8Restricted = QuantType(.int8, restricted: true)
  public static let int32 = QuantType(.int32)

  /// The type named on the command line: uint8, int8, uint16, int16, int4, uint4.
  public init?(name: String, restricted: Bool = false) {
    let types: [String: DataType] = [
      "uint8": .uint8, "int8": .int8, "uint16": .uint16, "int16": .int16, "int4": .int4, "uint4": .uint4,
    ]
    guard let type = types[name] else { return nil }
    self.init(type, restricted: restricted)
  }

  /// The 7-bit range of an 8-bit type (int8 [-64, 64], uint8 [0, 127]); other types unchanged.
  public static func reduced(_ type: QuantType) -> QuantType {
    var reduced = type
    switch type.dataType {
    case .int8: (reduced.qmin, reduced.qmax) = (-64, 64)
    case .uint8: (reduced.qmin, reduced.qmax) = (0, 127)
    default: break
    }
    return reduced
  }

  /// Whether the type is signed.
  public var isSigned: Bool { dataType.isSigned }

  /// The lowest ai.onnx opset whose QuantizeLinear/DequantizeLinear accept this type.
  public var minimumOpset: Int64 {
    switch dataType {
    case .int8, .uint8: return 10
    case .int32: return 10
    default: return 21
    }
  }

  enum CodingKeys: String, CodingKey { case dataType, qmin, qmax }

  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let name = try container.decode(String.self, forKey: .dataType)
    guard let type = QuantType(name: name) else {
      throw DecodingError.dataCorruptedError(forKey: .dataType, in: container, debugDescription: "unknown type \(name)")
    }
    self = type
    qmin = try container.decode(Int32.self, forKey: .qmin)
    qmax = try container.decode(Int32.self, forKey: .qmax)
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(dataType.name, forKey: .dataType)
    try container.encode(qmin, forKey: .qmin)
    try container.encode(qmax, forKey: .qmax)
  }
}
