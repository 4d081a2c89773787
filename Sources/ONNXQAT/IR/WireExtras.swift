import Foundation

/// One protobuf field that the ONNX 1.12 schema compiled into the bridge does not know
/// (a field added by a newer ONNX), kept byte for byte so that saving loses nothing.
public struct UnknownField: Hashable, Sendable {
  public var fieldNumber: UInt32
  public var wireType: UInt8
  /// The field's payload as it appeared on the wire, without its tag.
  public var payload: Data

  public init(fieldNumber: UInt32, wireType: UInt8, payload: Data) {
    self.fieldNumber = fieldNumber
    self.wireType = wireType
    self.payload = payload
  }
}

extension UnknownField {
  /// The content of a length-delimited field (its payload without the length prefix), nil for
  /// other wire types or a malformed prefix.
  public var lengthDelimitedContent: Data? {
    guard wireType == 2 else { return nil }
    var length = 0
    var shift = 0
    for (offset, byte) in payload.enumerated() {
      length |= Int(byte & 0x7f) << shift
      shift += 7
      if byte & 0x80 == 0 {
        let start = payload.startIndex + offset + 1
        guard payload.endIndex - start == length else { return nil }
        return payload[start...]
      }
      if shift > 56 { return nil }
    }
    return nil
  }
}

extension WireExtras {
  /// The last string held by unknown field `number` (for newer ONNX fields such as a node's
  /// `overload`), nil when absent.
  public func unknownString(_ number: UInt32) -> String? {
    unknownFields.last { $0.fieldNumber == number }?.lengthDelimitedContent.map { String(decoding: $0, as: UTF8.self) }
  }
}

/// What a protobuf message carried beyond the values the IR models: unknown fields, and
/// optional fields that were present on the wire with their default value ("" or 0).
/// Keeping both makes an untouched model save to the same bytes it was read from.
public struct WireExtras: Hashable, Sendable {
  public var unknownFields: [UnknownField] = []
  /// Field numbers of optional fields written explicitly with their default value.
  public var explicitDefaults: Set<UInt32> = []

  public init() {}

  public var isEmpty: Bool { unknownFields.isEmpty && explicitDefaults.isEmpty }
}

/// A key/value string pair (ONNX `StringStringEntryProto`): metadata, external data, bindings.
public struct StringPair: Hashable, Sendable {
  public var key: String
  public var value: String
  public var extras = WireExtras()

  public init(key: String, value: String) {
    self.key = key
    self.value = value
  }
}
