/// A model-local function (ONNX `FunctionProto`): a named body graph whose inputs and outputs
/// carry names but no types.
public final class Function {
  public var name: String?
  public var domain: String?
  public var attributeNames: [String]
  public var body: Graph
  public var opsetImports: [OpsetImport]
  public var docString: String?
  public var extras = WireExtras()
  /// Default attribute values (`attribute_proto`, a field newer than the 1.12 schema): decoded
  /// from the unknown fields for the executor; saving writes the unknown fields as they were.
  public internal(set) var attributeDefaults: [Attribute] = []

  /// `overload` (newer than the 1.12 schema), read from the unknown fields.
  public var overload: String? { extras.unknownString(NewerField.functionOverload) }

  public init(
    name: String?, domain: String?, attributeNames: [String] = [], body: Graph,
    opsetImports: [OpsetImport] = []
  ) {
    self.name = name
    self.domain = domain
    self.attributeNames = attributeNames
    self.body = body
    self.opsetImports = opsetImports
  }
}

/// One entry of `opset_import`: a domain ("" is ai.onnx) and its version.
public struct OpsetImport: Hashable, Sendable {
  public var domain: String?
  public var version: Int64?
  public var extras = WireExtras()

  public init(domain: String, version: Int64) {
    self.domain = domain
    self.version = version
  }

  /// The domain with "ai.onnx" spelled as "" (they are the same domain).
  public var normalizedDomain: String {
    let domain = self.domain ?? ""
    return domain == "ai.onnx" ? "" : domain
  }
}
