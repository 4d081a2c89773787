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
