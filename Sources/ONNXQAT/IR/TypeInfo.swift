/// A value's type (ONNX `TypeProto`): a tensor with element type and shape, or a sequence,
/// map, optional or sparse tensor of other types.
public struct TypeInfo: Hashable, Sendable {
  public indirect enum Kind: Hashable, Sendable {
    case tensor(TensorType)
    case sparseTensor(TensorType)
    case sequence(TypeInfo?)
    case map(key: DataType?, value: TypeInfo?)
    case optional(TypeInfo?)
    /// No `value` oneof set.
    case unset
  }

  public var kind: Kind
  public var denotation: String?
  public var extras = WireExtras()
  /// Extras of the inner message of the oneof (`TypeProto.Tensor`, `.Sequence`, ...).
  public var kindExtras = WireExtras()

  public init(_ kind: Kind, denotation: String? = nil) {
    self.kind = kind
    self.denotation = denotation
  }

  /// A tensor type with the given element type and static or symbolic shape.
  public static func tensor(_ elementType: DataType, _ dims: [Dimension]?) -> TypeInfo {
    TypeInfo(.tensor(TensorType(elementType: elementType, shape: dims.map { Shape(dims: $0) })))
  }

  /// The tensor type, when this is a (dense) tensor.
  public var tensorType: TensorType? {
    if case .tensor(let type) = kind { return type }
    return nil
  }
}

/// Element type and optional shape of a tensor type.
public struct TensorType: Hashable, Sendable {
  public var elementType: DataType?
  public var shape: Shape?
  public init(elementType: DataType?, shape: Shape?) {
    self.elementType = elementType
    self.shape = shape
  }
}

/// A tensor shape (`TensorShapeProto`); a missing shape (unknown rank) is a nil `Shape?`.
public struct Shape: Hashable, Sendable {
  public var dims: [Dimension]
  public var extras = WireExtras()
  public init(dims: [Dimension]) { self.dims = dims }
}

/// One dimension: a number, a symbolic name, or unknown.
public struct Dimension: Hashable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
  public enum Size: Hashable, Sendable {
    case known(Int64)
    case symbolic(String)
    case unknown
  }
  public var size: Size
  public var denotation: String?
  public var extras = WireExtras()

  public init(_ size: Size, denotation: String? = nil) {
    self.size = size
    self.denotation = denotation
  }
  public init(integerLiteral value: Int64) { self.init(.known(value)) }
  public init(stringLiteral value: String) { self.init(.symbolic(value)) }
}
