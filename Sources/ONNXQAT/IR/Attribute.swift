import Foundation

/// A node attribute (ONNX `AttributeProto`).
public struct Attribute: @unchecked Sendable {
  /// `AttributeProto.AttributeType` numbers.
  public enum Kind: Int32, Sendable {
    case undefined = 0, float = 1, int = 2, string = 3, tensor = 4, graph = 5, floats = 6, ints = 7
    case strings = 8, tensors = 9, graphs = 10, sparseTensor = 11, sparseTensors = 12
    case typeProto = 13, typeProtos = 14
  }

  public enum Value {
    case float(Float)
    case int(Int64)
    case string(Data)
    case tensor(Tensor)
    case graph(Graph)
    case sparseTensor(SparseTensor)
    case typeProto(TypeInfo)
    case floats([Float])
    case ints([Int64])
    case strings([Data])
    case tensors([Tensor])
    case graphs([Graph])
    case sparseTensors([SparseTensor])
    case typeProtos([TypeInfo])
    /// Neither a type nor a value (a malformed or reference-only attribute).
    case none
  }

  public var name: String
  public var value: Value
  /// For attributes of nodes inside a function: the function attribute this one refers to.
  public var refAttrName: String?
  public var docString: String?
  /// The `type` field as it was written; nil when absent (old writers omit it).
  public var declaredKind: Kind?
  /// False when the scalar field (`f`, `i`, `s`) was absent, as in reference attributes.
  public var scalarPresent = true
  public var extras = WireExtras()

  public init(name: String, _ value: Value) {
    self.name = name
    self.value = value
    self.declaredKind = value.kind
  }

  public static func int(_ name: String, _ value: Int64) -> Attribute { Attribute(name: name, .int(value)) }
  public static func float(_ name: String, _ value: Float) -> Attribute { Attribute(name: name, .float(value)) }
  public static func ints(_ name: String, _ value: [Int64]) -> Attribute { Attribute(name: name, .ints(value)) }
  public static func string(_ name: String, _ value: String) -> Attribute {
    Attribute(name: name, .string(Data(value.utf8)))
  }

  /// Whether this attribute holds a subgraph (no list is built).
  public var holdsSubgraph: Bool {
    switch value {
    case .graph, .graphs: return true
    default: return false
    }
  }

  /// The subgraphs this attribute holds (If branches, Loop and Scan bodies).
  public var subgraphs: [Graph] {
    switch value {
    case .graph(let graph): return [graph]
    case .graphs(let graphs): return graphs
    default: return []
    }
  }
}

extension Attribute.Value {
  /// The attribute type this value has.
  public var kind: Attribute.Kind {
    switch self {
    case .float: return .float
    case .int: return .int
    case .string: return .string
    case .tensor: return .tensor
    case .graph: return .graph
    case .sparseTensor: return .sparseTensor
    case .typeProto: return .typeProto
    case .floats: return .floats
    case .ints: return .ints
    case .strings: return .strings
    case .tensors: return .tensors
    case .graphs: return .graphs
    case .sparseTensors: return .sparseTensors
    case .typeProtos: return .typeProtos
    case .none: return .undefined
    }
  }
}
