import Foundation
import ONNXProto

/// Field numbers of optional strings that the IR stores as plain (non-optional) strings, so an
/// explicitly written "" can be told apart from an absent field.
enum FieldNumber {
  static let nodeName: UInt32 = 3
  static let nodeOpType: UInt32 = 4
  static let nodeDomain: UInt32 = 7
  static let valueInfoName: UInt32 = 1
  static let attributeName: UInt32 = 1
  static let pairKey: UInt32 = 1
  static let pairValue: UInt32 = 2
}

/// Converts an unpacked protobuf-c `ModelProto` into the IR, resolving every value name to the
/// value it denotes and rejecting models that break the IR's rules (undefined or duplicate
/// names, cycles).
struct ProtoReader {
  /// Names visible at one graph level; subgraphs see their enclosing graphs' names.
  final class Scope {
    var values: [String: Value] = [:]
    let parent: Scope?
    init(parent: Scope?) { self.parent = parent }
    func lookup(_ name: String) -> Value? { values[name] ?? parent?.lookup(name) }
  }

  let path: String
  /// Owner of the unpacked message tree that shared payloads point into.
  let owner: AnyObject
  /// Maps an external tensor to its bytes (or throws); nil leaves external tensors unresolved.
  let resolveExternal: ((Tensor) throws -> Data)?

  func readModel(_ message: UnsafeMutablePointer<Onnx__ModelProto>) throws -> Model {
    let proto = message.pointee
    guard let graphProto = proto.graph else {
      throw ONNXQATError.malformedModel(
        path: path,
        reason: "field 'graph' is missing (the bytes parsed as protobuf, but not as an ONNX ModelProto)")
    }
    let opsets = array(proto.opset_import, proto.n_opset_import).map(readOpset)
    let graph = try readGraph(graphProto, parent: nil, context: "graph")
    let model = Model(graph: graph, irVersion: 0, opsetImports: opsets)
    model.irVersion = proto.has_ir_version != 0 ? proto.ir_version : nil
    model.producerName = optionalString(proto.producer_name)
    model.producerVersion = optionalString(proto.producer_version)
    model.domain = optionalString(proto.domain)
    model.modelVersion = proto.has_model_version != 0 ? proto.model_version : nil
    model.docString = optionalString(proto.doc_string)
    model.metadataProps = array(proto.metadata_props, proto.n_metadata_props).map(readPair)
    model.trainingInfo = array(proto.training_info, proto.n_training_info).map {
      packedBytes(UnsafeRawPointer($0))
    }
    model.functions = try array(proto.functions, proto.n_functions).map(readFunction)
    model.extras = extras(proto.base)
    model.sourcePath = path
    return model
  }

  // MARK: Graphs

  func readGraph(_ pointer: UnsafeMutablePointer<Onnx__GraphProto>, parent: Scope?, context: String)
    throws -> Graph
  {
    let proto = pointer.pointee
    let graph = Graph(name: optionalString(proto.name))
    let where_ = "\(context) '\(graph.name ?? "")'"
    let scope = Scope(parent: parent)
    scope.values.reserveCapacity(proto.n_input + proto.n_initializer + proto.n_sparse_initializer + outputCount(proto))
    graph.docString = optionalString(proto.doc_string)
    graph.extras = extras(proto.base)

    for info in array(proto.input, proto.n_input) {
      let value = readValueInfo(info)
      if scope.values[value.name] != nil {
        throw invalid("\(where_): input '\(value.name)' is declared twice")
      }
      value.owningGraph = graph
      scope.values[value.name] = value
      graph.inputs.append(value)
    }
    var initializers: [Value] = []
    initializers.reserveCapacity(proto.n_initializer)
    for tensorPointer in array(proto.initializer, proto.n_initializer) {
      let tensor = try readTensor(tensorPointer)
      let name = tensor.name ?? ""
      let value: Value
      // So far the scope holds inputs and initializers, and only inputs lack a payload: an
      // initializer may give an input its default once (IR 3 lists initializers as inputs).
      if let existing = scope.values[name] {
        guard !existing.hasInitializer else {
          throw invalid("\(where_): initializer '\(name)' is defined twice")
        }
        value = existing
      } else {
        value = Value(name: name)
        scope.values[name] = value
      }
      value.assignInitializer(tensor)
      value.owningGraph = graph
      initializers.append(value)
    }
    graph.attachInitializersFromLoader(initializers)
    for sparsePointer in array(proto.sparse_initializer, proto.n_sparse_initializer) {
      let sparse = try readSparseTensor(sparsePointer)
      if scope.values[sparse.name] != nil {
        throw invalid("\(where_): sparse initializer '\(sparse.name)' is defined twice")
      }
      let value = Value(name: sparse.name)
      scope.values[sparse.name] = value
      graph.attachSparseInitializer(value, sparse: sparse)
    }

    let inOrder = try readNodes(array(proto.node, proto.n_node), into: graph, scope: scope, context: where_)

    for info in array(proto.output, proto.n_output) {
      let name = info.pointee.name.map { String(cString: $0) } ?? ""
      guard let value = scope.lookup(name) else {
        throw invalid("\(where_): output '\(name)' is not produced by any node, input or initializer")
      }
      _ = adopt(info, into: value)
      graph.outputs.append(value)
    }
    for info in array(proto.value_info, proto.n_value_info) {
      let name = info.pointee.name.map { String(cString: $0) } ?? ""
      let value = scope.lookup(name).map { adopt(info, into: $0) } ?? readValueInfo(info)
      graph.valueInfos.append(value)
    }
    graph.quantizationAnnotations = array(proto.quantization_annotation, proto.n_quantization_annotation)
      .map { pointer in
        var annotation = Graph.TensorAnnotation(
          tensorName: optionalString(pointer.pointee.tensor_name),
          quantParameterTensorNames: array(
            pointer.pointee.quant_parameter_tensor_names, pointer.pointee.n_quant_parameter_tensor_names
          ).map(readPair))
        annotation.extras = extras(pointer.pointee.base)
        return annotation
      }
    if !inOrder { try GraphTopology.checkAcyclic(graph, path: path, context: where_) }
    return graph
  }

  /// The number of node outputs of a graph (to size its scope once).
  private func outputCount(_ proto: Onnx__GraphProto) -> Int {
    var count = 0
    for node in array(proto.node, proto.n_node) { count += node.pointee.n_output }
    return count
  }

  /// Gives `value` the type and doc of a `ValueInfoProto` when it has none yet; when it already
  /// has different ones, returns a detached value carrying this declaration, so nothing is lost.
  private func adopt(_ info: UnsafeMutablePointer<Onnx__ValueInfoProto>, into value: Value) -> Value {
    let declared = readValueInfo(info)
    if value.type == nil && value.docString == nil && value.infoExtras.isEmpty {
      value.type = declared.type
      value.docString = declared.docString
      value.infoExtras = declared.infoExtras
      return value
    }
    if value.type == declared.type && value.docString == declared.docString
      && value.infoExtras == declared.infoExtras
    {
      return value
    }
    return declared
  }

  private func describe(_ node: Node, _ index: Int) -> String {
    node.name.isEmpty ? "#\(index) (\(node.opType))" : "'\(node.name)' (\(node.opType))"
  }

  private func invalid(_ reason: String) -> ONNXQATError {
    .invalidModel(path: path, reason: reason)
  }

  // MARK: Nodes and attributes

  /// Reads a node list. Each node is created in file order with its outputs, and each input is
  /// bound at once when an earlier node, an input or an initializer of this graph defines it.
  /// The other inputs (a node out of order, a value of an enclosing graph, an undefined name) are
  /// bound once every node is read, so nodes may come in any order; attributes are read then
  /// too, so subgraphs see the complete enclosing scope. Errors come in the order of a two-pass
  /// read: duplicate outputs first, then, node by node, undefined inputs and bad attributes.
  ///
  /// Returns true when the nodes are in topological order by construction (every input bound
  /// at once, no subgraph that might capture a later value), so the graph cannot have a cycle.
  private func readNodes(
    _ protos: [UnsafeMutablePointer<Onnx__NodeProto>], into graph: Graph, scope: Scope, context: String
  ) throws -> Bool {
    var nodes: [Node] = []
    nodes.reserveCapacity(protos.count)
    var unbound: [Bool] = []
    var inOrder = true
    for (index, pointer) in protos.enumerated() {
      let proto = pointer.pointee
      var inputs: [Value?] = []
      inputs.reserveCapacity(proto.n_input)
      var bound = true
      for slot in 0..<proto.n_input {
        guard let name = inputName(proto, slot) else {
          inputs.append(nil)
          continue
        }
        let value = scope.values[name]
        if value == nil { bound = false }
        inputs.append(value)
      }
      let node = readNodeHeader(pointer, inputs: inputs)
      for output in node.outputs {
        guard let output else { continue }
        if scope.values.updateValue(output, forKey: output.name) != nil {
          throw invalid(
            "\(context): node \(describe(node, index)) output '\(output.name)' is already defined (duplicate output name)"
          )
        }
      }
      nodes.append(node)
      if !bound {
        if unbound.isEmpty { unbound = Array(repeating: false, count: protos.count) }
        unbound[index] = true
        inOrder = false
      }
    }
    graph.attachNodesFromLoader(nodes)
    for (index, pointer) in protos.enumerated() {
      // Most nodes of a large graph have neither unbound inputs nor attributes: skip them
      // without touching the node (each touch of a scattered object is a cache miss).
      let proto = pointer.pointee
      let isUnbound = !unbound.isEmpty && unbound[index]
      guard isUnbound || proto.n_attribute > 0 else { continue }
      let node = nodes[index]
      if isUnbound {
        for slot in 0..<proto.n_input where node.inputs[slot] == nil {
          guard let name = inputName(proto, slot) else { continue }
          guard let value = scope.lookup(name) else {
            throw invalid(
              "\(context): node \(describe(node, index)) input \(slot) '\(name)' is not defined by any graph input, initializer or node output"
            )
          }
          try node.replaceInput(at: slot, with: value)
        }
      }
      guard proto.n_attribute > 0 else { continue }
      let nodeContext = "\(context) node \(describe(node, index))"
      node.attributes = try array(proto.attribute, proto.n_attribute).map {
        try readAttribute($0, scope: scope, context: nodeContext)
      }
      for attribute in node.attributes {
        for subgraph in attribute.subgraphs {
          subgraph.owningNode = node
          inOrder = false
        }
      }
    }
    return inOrder
  }

  /// The name in input slot `slot`, nil when the slot is empty (an omitted optional input).
  private func inputName(_ proto: Onnx__NodeProto, _ slot: Int) -> String? {
    guard let pointer = proto.input[slot], pointer.pointee != 0 else { return nil }
    return String(cString: pointer)
  }

  private func readNodeHeader(_ pointer: UnsafeMutablePointer<Onnx__NodeProto>, inputs: [Value?]) -> Node {
    let proto = pointer.pointee
    var nodeExtras = extras(proto.base)
    let outputNames: [String?] = (0..<proto.n_output).map { slot in
      guard let name = proto.output[slot], name.pointee != 0 else { return nil }
      return String(cString: name)
    }
    let node = Node(
      opType: requiredString(proto.op_type, FieldNumber.nodeOpType, into: &nodeExtras),
      domain: requiredString(proto.domain, FieldNumber.nodeDomain, into: &nodeExtras),
      name: requiredString(proto.name, FieldNumber.nodeName, into: &nodeExtras),
      inputs: inputs, outputNames: outputNames)
    node.docString = optionalString(proto.doc_string)
    node.extras = nodeExtras
    return node
  }

  func readAttribute(
    _ pointer: UnsafeMutablePointer<Onnx__AttributeProto>, scope: Scope, context: String
  ) throws -> Attribute {
    let proto = pointer.pointee
    var attributeExtras = extras(proto.base)
    let name = requiredString(proto.name, FieldNumber.attributeName, into: &attributeExtras)
    let declared = proto.has_type != 0 ? Attribute.Kind(rawValue: Int32(truncatingIfNeeded: proto.type.rawValue)) : nil
    let kind = declared ?? inferKind(proto)
    var scalarPresent = true
    let value: Attribute.Value
    switch kind {
    case .float:
      scalarPresent = proto.has_f != 0
      value = .float(proto.f)
    case .int:
      scalarPresent = proto.has_i != 0
      value = .int(proto.i)
    case .string:
      scalarPresent = proto.has_s != 0
      value = .string(copyBytes(proto.s))
    case .tensor: value = try proto.t.map { .tensor(try readTensor($0)) } ?? .none
    case .graph:
      value =
        try proto.g.map {
          .graph(try readGraph($0, parent: scope, context: "subgraph of \(context) attribute '\(name)'"))
        } ?? .none
    case .sparseTensor: value = try proto.sparse_tensor.map { .sparseTensor(try readSparseTensor($0)) } ?? .none
    case .typeProto: value = proto.tp.map { .typeProto(readType($0)) } ?? .none
    case .floats: value = .floats(Array(UnsafeBufferPointer(start: proto.floats, count: proto.n_floats)))
    case .ints: value = .ints(Array(UnsafeBufferPointer(start: proto.ints, count: proto.n_ints)))
    case .strings: value = .strings(UnsafeBufferPointer(start: proto.strings, count: proto.n_strings).map(copyBytes))
    case .tensors: value = .tensors(try array(proto.tensors, proto.n_tensors).map { try readTensor($0) })
    case .graphs:
      value = .graphs(
        try array(proto.graphs, proto.n_graphs).enumerated().map { index, graph in
          try readGraph(graph, parent: scope, context: "subgraph of \(context) attribute '\(name)'[\(index)]")
        })
    case .sparseTensors:
      value = .sparseTensors(try array(proto.sparse_tensors, proto.n_sparse_tensors).map(readSparseTensor))
    case .typeProtos: value = .typeProtos(array(proto.type_protos, proto.n_type_protos).map(readType))
    case .undefined: value = .none
    }
    var attribute = Attribute(name: name, value)
    attribute.declaredKind =
      proto.has_type != 0
      ? (declared ?? Attribute.Kind.undefined) : nil
    if proto.has_type != 0 && declared == nil {
      // An attribute type this build does not know: keep its number as an unknown-kind marker.
      attributeExtras.unknownFields.append(
        UnknownField(fieldNumber: 20, wireType: 0, payload: varint(UInt64(proto.type.rawValue))))
      attribute.declaredKind = nil
    }
    attribute.refAttrName = optionalString(proto.ref_attr_name)
    attribute.docString = optionalString(proto.doc_string)
    attribute.scalarPresent = scalarPresent
    attribute.extras = attributeExtras
    return attribute
  }

  private func inferKind(_ proto: Onnx__AttributeProto) -> Attribute.Kind {
    if proto.has_f != 0 { return .float }
    if proto.has_i != 0 { return .int }
    if proto.has_s != 0 { return .string }
    if proto.t != nil { return .tensor }
    if proto.g != nil { return .graph }
    if proto.sparse_tensor != nil { return .sparseTensor }
    if proto.tp != nil { return .typeProto }
    if proto.n_floats > 0 { return .floats }
    if proto.n_ints > 0 { return .ints }
    if proto.n_strings > 0 { return .strings }
    if proto.n_tensors > 0 { return .tensors }
    if proto.n_graphs > 0 { return .graphs }
    if proto.n_sparse_tensors > 0 { return .sparseTensors }
    if proto.n_type_protos > 0 { return .typeProtos }
    return .undefined
  }

  // MARK: Functions

  private func readFunction(_ pointer: UnsafeMutablePointer<Onnx__FunctionProto>) throws -> Function {
    let proto = pointer.pointee
    let name = optionalString(proto.name)
    let where_ = "function '\(name ?? "")'"
    let body = Graph(name: nil)
    let scope = Scope(parent: nil)
    for inputName in array(proto.input, proto.n_input).map({ String(cString: $0) }) {
      let value = Value(name: inputName)
      value.owningGraph = body
      scope.values[inputName] = value
      body.inputs.append(value)
    }
    let inOrder = try readNodes(array(proto.node, proto.n_node), into: body, scope: scope, context: where_)
    for outputName in array(proto.output, proto.n_output).map({ String(cString: $0) }) {
      guard let value = scope.lookup(outputName) else {
        throw invalid("\(where_): output '\(outputName)' is not produced by any node or input")
      }
      body.outputs.append(value)
    }
    if !inOrder { try GraphTopology.checkAcyclic(body, path: path, context: where_) }
    let function = Function(
      name: name, domain: optionalString(proto.domain),
      attributeNames: array(proto.attribute, proto.n_attribute).map { String(cString: $0) },
      body: body, opsetImports: array(proto.opset_import, proto.n_opset_import).map(readOpset))
    function.docString = optionalString(proto.doc_string)
    function.extras = extras(proto.base)
    function.attributeDefaults = try function.extras.unknownFields
      .filter { $0.fieldNumber == NewerField.functionAttributeProto }
      .compactMap { try readDetachedAttribute($0, context: where_) }
    return function
  }

  /// Decodes an AttributeProto kept as an unknown field; its payloads live as long as the result.
  private func readDetachedAttribute(_ field: UnknownField, context: String) throws -> Attribute? {
    guard let content = field.lengthDelimitedContent else { return nil }
    let memory = BumpAllocator()
    let message = content.withUnsafeBytes { raw in
      memory.unpacking {
        onnx__attribute_proto__unpack($0, raw.count, raw.baseAddress?.assumingMemoryBound(to: UInt8.self))
      }
    }
    guard let message else { throw invalid("\(context): a default attribute (attribute_proto) does not parse") }
    let reader = ProtoReader(path: path, owner: memory, resolveExternal: resolveExternal)
    return try reader.readAttribute(message, scope: Scope(parent: nil), context: context)
  }

  // MARK: Values, types, tensors

  private func readValueInfo(_ pointer: UnsafeMutablePointer<Onnx__ValueInfoProto>) -> Value {
    let proto = pointer.pointee
    var infoExtras = extras(proto.base)
    let value = Value(name: requiredString(proto.name, FieldNumber.valueInfoName, into: &infoExtras))
    value.type = proto.type.map(readType)
    value.docString = optionalString(proto.doc_string)
    value.infoExtras = infoExtras
    return value
  }

  func readType(_ pointer: UnsafeMutablePointer<Onnx__TypeProto>) -> TypeInfo {
    let proto = pointer.pointee
    var kindExtras = WireExtras()
    let kind: TypeInfo.Kind
    switch proto.value_case {
    case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE:
      let inner = proto.tensor_type.pointee
      kindExtras = extras(inner.base)
      kind = .tensor(
        TensorType(
          elementType: inner.has_elem_type != 0 ? DataType(rawValue: inner.elem_type) : nil,
          shape: inner.shape.map(readShape)))
    case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE:
      let inner = proto.sparse_tensor_type.pointee
      kindExtras = extras(inner.base)
      kind = .sparseTensor(
        TensorType(
          elementType: inner.has_elem_type != 0 ? DataType(rawValue: inner.elem_type) : nil,
          shape: inner.shape.map(readShape)))
    case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
      let inner = proto.sequence_type.pointee
      kindExtras = extras(inner.base)
      kind = .sequence(inner.elem_type.map(readType))
    case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
      let inner = proto.map_type.pointee
      kindExtras = extras(inner.base)
      kind = .map(
        key: inner.has_key_type != 0 ? DataType(rawValue: inner.key_type) : nil,
        value: inner.value_type.map(readType))
    case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
      let inner = proto.optional_type.pointee
      kindExtras = extras(inner.base)
      kind = .optional(inner.elem_type.map(readType))
    default:
      kind = .unset
    }
    var type = TypeInfo(kind, denotation: optionalString(proto.denotation))
    type.extras = extras(proto.base)
    type.kindExtras = kindExtras
    return type
  }

  private func readShape(_ pointer: UnsafeMutablePointer<Onnx__TensorShapeProto>) -> Shape {
    var shape = Shape(
      dims: array(pointer.pointee.dim, pointer.pointee.n_dim).map { dimPointer in
        let proto = dimPointer.pointee
        let size: Dimension.Size
        switch proto.value_case {
        case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE: size = .known(proto.dim_value)
        case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM:
          size = .symbolic(proto.dim_param.map { String(cString: $0) } ?? "")
        default: size = .unknown
        }
        var dimension = Dimension(size, denotation: optionalString(proto.denotation))
        dimension.extras = extras(proto.base)
        return dimension
      })
    shape.extras = extras(pointer.pointee.base)
    return shape
  }

  func readTensor(_ pointer: UnsafeMutablePointer<Onnx__TensorProto>) throws -> Tensor {
    let proto = pointer.pointee
    var tensor = Tensor(
      name: optionalString(proto.name), dataType: .undefined,
      dims: Array(UnsafeBufferPointer(start: proto.dims, count: proto.n_dims)))
    tensor.dataType = proto.has_data_type != 0 ? DataType(rawValue: proto.data_type) : nil
    if let segment = proto.segment {
      var value = Tensor.Segment(
        begin: segment.pointee.has_begin != 0 ? segment.pointee.begin : nil,
        end: segment.pointee.has_end != 0 ? segment.pointee.end : nil)
      value.extras = extras(segment.pointee.base)
      tensor.segment = value
    }
    tensor.docString = optionalString(proto.doc_string)
    if proto.has_raw_data != 0 { tensor.rawData = shared(proto.raw_data.data, proto.raw_data.len) }
    tensor.floatData = shared(proto.float_data, proto.n_float_data * 4)
    tensor.int32Data = shared(proto.int32_data, proto.n_int32_data * 4)
    tensor.int64Data = shared(proto.int64_data, proto.n_int64_data * 8)
    tensor.doubleData = shared(proto.double_data, proto.n_double_data * 8)
    tensor.uint64Data = shared(proto.uint64_data, proto.n_uint64_data * 8)
    tensor.stringData = UnsafeBufferPointer(start: proto.string_data, count: proto.n_string_data).map(copyBytes)
    tensor.externalData = array(proto.external_data, proto.n_external_data).map(readPair)
    if proto.has_data_location != 0 {
      tensor.dataLocation = Tensor.DataLocation(rawValue: Int32(truncatingIfNeeded: proto.data_location.rawValue))
    }
    tensor.extras = extras(proto.base)
    if let problem = tensor.dimsProblem {
      throw invalid("tensor '\(tensor.name ?? "")': \(problem)")
    }
    if let raw = tensor.rawData, tensor.segment == nil, !tensor.isExternal, let expected = tensor.rawByteCount,
      raw.count != expected
    {
      throw invalid(
        "tensor '\(tensor.name ?? "")': raw_data holds \(raw.count) bytes, but \(tensor.elementType.name)\(tensor.dims) needs \(expected)"
      )
    }
    if tensor.isExternal, let resolveExternal {
      tensor.externalBytes = try resolveExternal(tensor)
    }
    return tensor
  }

  private func readSparseTensor(_ pointer: UnsafeMutablePointer<Onnx__SparseTensorProto>) throws -> SparseTensor {
    let proto = pointer.pointee
    var sparse = SparseTensor(
      values: try proto.values.map(readTensor), indices: try proto.indices.map(readTensor),
      dims: Array(UnsafeBufferPointer(start: proto.dims, count: proto.n_dims)))
    var dense = Tensor(name: sparse.name, dataType: sparse.values?.elementType ?? .float, dims: sparse.dims)
    dense.dataType = sparse.values?.dataType
    if let problem = dense.dimsProblem { throw invalid("sparse tensor '\(sparse.name)': \(problem)") }
    sparse.extras = extras(proto.base)
    return sparse
  }

  private func readOpset(_ pointer: UnsafeMutablePointer<Onnx__OperatorSetIdProto>) -> OpsetImport {
    let proto = pointer.pointee
    var opset = OpsetImport(domain: "", version: 0)
    opset.domain = optionalString(proto.domain)
    opset.version = proto.has_version != 0 ? proto.version : nil
    opset.extras = extras(proto.base)
    return opset
  }

  private func readPair(_ pointer: UnsafeMutablePointer<Onnx__StringStringEntryProto>) -> StringPair {
    var pairExtras = extras(pointer.pointee.base)
    var pair = StringPair(
      key: requiredString(pointer.pointee.key, FieldNumber.pairKey, into: &pairExtras),
      value: requiredString(pointer.pointee.value, FieldNumber.pairValue, into: &pairExtras))
    pair.extras = pairExtras
    return pair
  }

  // MARK: Primitive conversions

  private func optionalString(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
    pointer.map { String(cString: $0) }
  }

  /// A string the IR keeps non-optional: an explicit "" is remembered in `extras`.
  private func requiredString(_ pointer: UnsafeMutablePointer<CChar>?, _ field: UInt32, into extras: inout WireExtras)
    -> String
  {
    guard let pointer else { return "" }
    let string = String(cString: pointer)
    if string.isEmpty { extras.explicitDefaults.insert(field) }
    return string
  }

  private func array<T>(_ pointer: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?, _ count: Int)
    -> [UnsafeMutablePointer<T>]
  {
    guard let pointer, count > 0 else { return [] }
    return UnsafeBufferPointer(start: pointer, count: count).compactMap { $0 }
  }

  /// Wraps `count` bytes owned by the unpacked message in a `Data` that keeps the message alive.
  private func shared<T>(_ pointer: UnsafeMutablePointer<T>?, _ count: Int) -> Data {
    guard let pointer, count > 0 else { return Data() }
    if count <= 256 { return Data(bytes: pointer, count: count) }
    let owner = self.owner
    return Data(
      bytesNoCopy: UnsafeMutableRawPointer(pointer), count: count,
      deallocator: .custom { _, _ in withExtendedLifetime(owner) {} })
  }

  private func copyBytes(_ binary: ProtobufCBinaryData) -> Data {
    guard let data = binary.data, binary.len > 0 else { return Data() }
    return Data(bytes: data, count: binary.len)
  }

  private func extras(_ base: ProtobufCMessage) -> WireExtras {
    var result = WireExtras()
    guard base.n_unknown_fields > 0, let fields = base.unknown_fields else { return result }
    for field in UnsafeBufferPointer(start: fields, count: Int(base.n_unknown_fields)) {
      let payload = field.data.map { Data(bytes: $0, count: field.len) } ?? Data()
      result.unknownFields.append(
        UnknownField(
          fieldNumber: field.tag, wireType: UInt8(truncatingIfNeeded: field.wire_type.rawValue), payload: payload))
    }
    return result
  }

  private func packedBytes(_ message: UnsafeRawPointer) -> Data {
    let base = message.assumingMemoryBound(to: ProtobufCMessage.self)
    let size = protobuf_c_message_get_packed_size(base)
    var data = Data(count: size)
    data.withUnsafeMutableBytes { buffer in
      _ = protobuf_c_message_pack(base, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self))
    }
    return data
  }

  private func varint(_ value: UInt64) -> Data {
    var bytes: [UInt8] = []
    var rest = value
    repeat {
      let low = UInt8(rest & 0x7f)
      rest >>= 7
      bytes.append(rest == 0 ? low : low | 0x80)
    } while rest != 0
    return Data(bytes)
  }
}

/// Numbers of ONNX fields newer than the 1.12 schema that onnx-qat reads from unknown fields.
enum NewerField {
  static let nodeOverload: UInt32 = 8
  static let functionOverload: UInt32 = 13
  static let functionAttributeProto: UInt32 = 11

  /// Names of the newer fields, by message, for printed comments.
  static let names: [String: [UInt32: String]] = [
    "model": [26: "configuration"],
    "graph": [16: "metadata_props"],
    "node": [8: "overload", 9: "metadata_props", 10: "device_configurations"],
    "function": [11: "attribute_proto", 12: "value_info", 13: "overload", 14: "metadata_props"],
    "tensor": [16: "metadata_props"],
    "value": [4: "metadata_props"],
  ]
}
