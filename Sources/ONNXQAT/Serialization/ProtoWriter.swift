import Foundation
import ONNXProto

/// Builds a protobuf-c `ModelProto` tree from the IR, for packing. All memory belongs to the
/// arena; tensor payloads are shared with the IR rather than copied.
struct ProtoWriter {
  let arena: CArena
  /// Lets the saver move payloads to or from external data; the identity by default.
  var transformTensor: (Tensor) throws -> Tensor = { $0 }

  func writeModel(_ model: Model) throws -> UnsafeMutablePointer<Onnx__ModelProto> {
    let proto = arena.message(Onnx__ModelProto.self) { onnx__model_proto__init($0) }
    proto.pointee.has_ir_version = model.irVersion != nil ? 1 : 0
    proto.pointee.ir_version = model.irVersion ?? 0
    let opsets = model.opsetImports.map(writeOpset)
    proto.pointee.n_opset_import = opsets.count
    proto.pointee.opset_import = arena.pointers(opsets)
    proto.pointee.producer_name = arena.string(model.producerName)
    proto.pointee.producer_version = arena.string(model.producerVersion)
    proto.pointee.domain = arena.string(model.domain)
    proto.pointee.has_model_version = model.modelVersion != nil ? 1 : 0
    proto.pointee.model_version = model.modelVersion ?? 0
    proto.pointee.doc_string = arena.string(model.docString)
    proto.pointee.graph = try writeGraph(model.graph)
    let metadata = model.metadataProps.map(writePair)
    proto.pointee.n_metadata_props = metadata.count
    proto.pointee.metadata_props = arena.pointers(metadata)
    let training = try model.trainingInfo.map(unpackTrainingInfo)
    proto.pointee.n_training_info = training.count
    proto.pointee.training_info = arena.pointers(training)
    let functions = try model.functions.map(writeFunction)
    proto.pointee.n_functions = functions.count
    proto.pointee.functions = arena.pointers(functions)
    setExtras(&proto.pointee.base, model.extras)
    return proto
  }

  func writeGraph(_ graph: Graph) throws -> UnsafeMutablePointer<Onnx__GraphProto> {
    let proto = arena.message(Onnx__GraphProto.self) { onnx__graph_proto__init($0) }
    let nodes = graph.nodes
    proto.pointee.n_node = nodes.count
    proto.pointee.node = try arena.array(count: nodes.count) { try writeNode(nodes[$0]) }
    proto.pointee.name = arena.string(graph.name)
    // Tensors are large structs: read each in place rather than copying them into a list first.
    let initializers = graph.initializers.filter { $0.hasInitializer }
    proto.pointee.n_initializer = initializers.count
    proto.pointee.initializer = try arena.array(count: initializers.count) {
      try initializers[$0].initializer.map { try writeTensor(transformTensor($0)) }
    }
    let sparse = try graph.sparseInitializers.compactMap { try $0.sparseInitializer.map(writeSparseTensor) }
    proto.pointee.n_sparse_initializer = sparse.count
    proto.pointee.sparse_initializer = arena.pointers(sparse)
    proto.pointee.doc_string = arena.string(graph.docString)
    let inputs = graph.inputs.map(writeValueInfo)
    proto.pointee.n_input = inputs.count
    proto.pointee.input = arena.pointers(inputs)
    let outputs = graph.outputs.map(writeValueInfo)
    proto.pointee.n_output = outputs.count
    proto.pointee.output = arena.pointers(outputs)
    let infos = graph.valueInfos.map(writeValueInfo)
    proto.pointee.n_value_info = infos.count
    proto.pointee.value_info = arena.pointers(infos)
    let annotations = graph.quantizationAnnotations.map { annotation in
      let entry = arena.message(Onnx__TensorAnnotation.self) { onnx__tensor_annotation__init($0) }
      entry.pointee.tensor_name = arena.string(annotation.tensorName)
      let names = annotation.quantParameterTensorNames.map(writePair)
      entry.pointee.n_quant_parameter_tensor_names = names.count
      entry.pointee.quant_parameter_tensor_names = arena.pointers(names)
      setExtras(&entry.pointee.base, annotation.extras)
      return entry
    }
    proto.pointee.n_quantization_annotation = annotations.count
    proto.pointee.quantization_annotation = arena.pointers(annotations)
    setExtras(&proto.pointee.base, graph.extras)
    return proto
  }

  private func writeNode(_ node: Node) throws -> UnsafeMutablePointer<Onnx__NodeProto> {
    let proto = arena.message(Onnx__NodeProto.self) { onnx__node_proto__init($0) }
    let inputs = node.inputs
    proto.pointee.n_input = inputs.count
    proto.pointee.input = arena.array(count: inputs.count) { arena.string(inputs[$0]?.name ?? "") }
    let outputs = node.outputs
    proto.pointee.n_output = outputs.count
    proto.pointee.output = arena.array(count: outputs.count) { arena.string(outputs[$0]?.name ?? "") }
    proto.pointee.name = plainString(node.name, FieldNumber.nodeName, node.extras)
    proto.pointee.op_type = plainString(node.opType, FieldNumber.nodeOpType, node.extras)
    proto.pointee.domain = plainString(node.domain, FieldNumber.nodeDomain, node.extras)
    let attributes = try node.attributes.map(writeAttribute)
    proto.pointee.n_attribute = attributes.count
    proto.pointee.attribute = arena.pointers(attributes)
    proto.pointee.doc_string = arena.string(node.docString)
    setExtras(&proto.pointee.base, node.extras)
    return proto
  }

  private func writeAttribute(_ attribute: Attribute) throws -> UnsafeMutablePointer<Onnx__AttributeProto> {
    let proto = arena.message(Onnx__AttributeProto.self) { onnx__attribute_proto__init($0) }
    proto.pointee.name = plainString(attribute.name, FieldNumber.attributeName, attribute.extras)
    proto.pointee.ref_attr_name = arena.string(attribute.refAttrName)
    proto.pointee.doc_string = arena.string(attribute.docString)
    if let kind = attribute.declaredKind {
      proto.pointee.has_type = 1
      proto.pointee.type = Onnx__AttributeProto__AttributeType(rawValue: numericCast(kind.rawValue))
    }
    let present: protobuf_c_boolean = attribute.scalarPresent ? 1 : 0
    switch attribute.value {
    case .float(let value):
      proto.pointee.has_f = present
      proto.pointee.f = value
    case .int(let value):
      proto.pointee.has_i = present
      proto.pointee.i = value
    case .string(let value):
      proto.pointee.has_s = present
      proto.pointee.s = arena.binary(value)
    case .tensor(let tensor): proto.pointee.t = try writeTensor(transformTensor(tensor))
    case .graph(let graph): proto.pointee.g = try writeGraph(graph)
    case .sparseTensor(let sparse): proto.pointee.sparse_tensor = try writeSparseTensor(sparse)
    case .typeProto(let type): proto.pointee.tp = writeType(type)
    case .floats(let values):
      proto.pointee.n_floats = values.count
      proto.pointee.floats = arena.array(values)
    case .ints(let values):
      proto.pointee.n_ints = values.count
      proto.pointee.ints = arena.array(values)
    case .strings(let values):
      proto.pointee.n_strings = values.count
      proto.pointee.strings = arena.array(values.map(arena.binary))
    case .tensors(let tensors):
      let written = try tensors.map { try writeTensor(transformTensor($0)) }
      proto.pointee.n_tensors = written.count
      proto.pointee.tensors = arena.pointers(written)
    case .graphs(let graphs):
      let written = try graphs.map(writeGraph)
      proto.pointee.n_graphs = written.count
      proto.pointee.graphs = arena.pointers(written)
    case .sparseTensors(let tensors):
      let written = try tensors.map(writeSparseTensor)
      proto.pointee.n_sparse_tensors = written.count
      proto.pointee.sparse_tensors = arena.pointers(written)
    case .typeProtos(let types):
      let written = types.map(writeType)
      proto.pointee.n_type_protos = written.count
      proto.pointee.type_protos = arena.pointers(written)
    case .none: break
    }
    setExtras(&proto.pointee.base, attribute.extras)
    return proto
  }

  private func writeFunction(_ function: Function) throws -> UnsafeMutablePointer<Onnx__FunctionProto> {
    let proto = arena.message(Onnx__FunctionProto.self) { onnx__function_proto__init($0) }
    proto.pointee.name = arena.string(function.name)
    let inputs = function.body.inputs.map { arena.string($0.name) }
    proto.pointee.n_input = inputs.count
    proto.pointee.input = arena.array(inputs)
    let outputs = function.body.outputs.map { arena.string($0.name) }
    proto.pointee.n_output = outputs.count
    proto.pointee.output = arena.array(outputs)
    let attributes = function.attributeNames.map { arena.string($0) }
    proto.pointee.n_attribute = attributes.count
    proto.pointee.attribute = arena.array(attributes)
    let nodes = try function.body.nodes.map(writeNode)
    proto.pointee.n_node = nodes.count
    proto.pointee.node = arena.pointers(nodes)
    proto.pointee.doc_string = arena.string(function.docString)
    let opsets = function.opsetImports.map(writeOpset)
    proto.pointee.n_opset_import = opsets.count
    proto.pointee.opset_import = arena.pointers(opsets)
    proto.pointee.domain = arena.string(function.domain)
    setExtras(&proto.pointee.base, function.extras)
    return proto
  }

  private func writeValueInfo(_ value: Value) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
    let proto = arena.message(Onnx__ValueInfoProto.self) { onnx__value_info_proto__init($0) }
    proto.pointee.name = plainString(value.name, FieldNumber.valueInfoName, value.infoExtras)
    proto.pointee.type = value.type.map(writeType)
    proto.pointee.doc_string = arena.string(value.docString)
    setExtras(&proto.pointee.base, value.infoExtras)
    return proto
  }

  func writeType(_ type: TypeInfo) -> UnsafeMutablePointer<Onnx__TypeProto> {
    let proto = arena.message(Onnx__TypeProto.self) { onnx__type_proto__init($0) }
    proto.pointee.denotation = arena.string(type.denotation)
    switch type.kind {
    case .tensor(let tensor):
      let inner = arena.message(Onnx__TypeProto__Tensor.self) { onnx__type_proto__tensor__init($0) }
      inner.pointee.has_elem_type = tensor.elementType != nil ? 1 : 0
      inner.pointee.elem_type = tensor.elementType?.rawValue ?? 0
      inner.pointee.shape = tensor.shape.map(writeShape)
      setExtras(&inner.pointee.base, type.kindExtras)
      proto.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
      proto.pointee.tensor_type = inner
    case .sparseTensor(let tensor):
      let inner = arena.message(Onnx__TypeProto__SparseTensor.self) { onnx__type_proto__sparse_tensor__init($0) }
      inner.pointee.has_elem_type = tensor.elementType != nil ? 1 : 0
      inner.pointee.elem_type = tensor.elementType?.rawValue ?? 0
      inner.pointee.shape = tensor.shape.map(writeShape)
      setExtras(&inner.pointee.base, type.kindExtras)
      proto.pointee.value_case = ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE
      proto.pointee.sparse_tensor_type = inner
    case .sequence(let element):
      let inner = arena.message(Onnx__TypeProto__Sequence.self) { onnx__type_proto__sequence__init($0) }
      inner.pointee.elem_type = element.map(writeType)
      setExtras(&inner.pointee.base, type.kindExtras)
      proto.pointee.value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE
      proto.pointee.sequence_type = inner
    case .map(let key, let value):
      let inner = arena.message(Onnx__TypeProto__Map.self) { onnx__type_proto__map__init($0) }
      inner.pointee.has_key_type = key != nil ? 1 : 0
      inner.pointee.key_type = key?.rawValue ?? 0
      inner.pointee.value_type = value.map(writeType)
      setExtras(&inner.pointee.base, type.kindExtras)
      proto.pointee.value_case = ONNX__TYPE_PROTO__VALUE_MAP_TYPE
      proto.pointee.map_type = inner
    case .optional(let element):
      let inner = arena.message(Onnx__TypeProto__Optional.self) { onnx__type_proto__optional__init($0) }
      inner.pointee.elem_type = element.map(writeType)
      setExtras(&inner.pointee.base, type.kindExtras)
      proto.pointee.value_case = ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE
      proto.pointee.optional_type = inner
    case .unset: break
    }
    setExtras(&proto.pointee.base, type.extras)
    return proto
  }

  private func writeShape(_ shape: Shape) -> UnsafeMutablePointer<Onnx__TensorShapeProto> {
    let proto = arena.message(Onnx__TensorShapeProto.self) { onnx__tensor_shape_proto__init($0) }
    let dims = shape.dims.map { dimension in
      let dim = arena.message(Onnx__TensorShapeProto__Dimension.self) {
        onnx__tensor_shape_proto__dimension__init($0)
      }
      dim.pointee.denotation = arena.string(dimension.denotation)
      switch dimension.size {
      case .known(let size):
        dim.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
        dim.pointee.dim_value = size
      case .symbolic(let name):
        dim.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
        dim.pointee.dim_param = arena.string(name)
      case .unknown: break
      }
      setExtras(&dim.pointee.base, dimension.extras)
      return dim
    }
    proto.pointee.n_dim = dims.count
    proto.pointee.dim = arena.pointers(dims)
    setExtras(&proto.pointee.base, shape.extras)
    return proto
  }

  func writeTensor(_ tensor: Tensor) throws -> UnsafeMutablePointer<Onnx__TensorProto> {
    let proto = arena.message(Onnx__TensorProto.self) { onnx__tensor_proto__init($0) }
    proto.pointee.n_dims = tensor.dims.count
    proto.pointee.dims = arena.array(tensor.dims)
    proto.pointee.has_data_type = tensor.dataType != nil ? 1 : 0
    proto.pointee.data_type = tensor.dataType?.rawValue ?? 0
    if let segment = tensor.segment {
      let entry = arena.message(Onnx__TensorProto__Segment.self) { onnx__tensor_proto__segment__init($0) }
      entry.pointee.has_begin = segment.begin != nil ? 1 : 0
      entry.pointee.begin = segment.begin ?? 0
      entry.pointee.has_end = segment.end != nil ? 1 : 0
      entry.pointee.end = segment.end ?? 0
      setExtras(&entry.pointee.base, segment.extras)
      proto.pointee.segment = entry
    }
    (proto.pointee.n_float_data, proto.pointee.float_data) = arena.typed(tensor.floatData, as: Float.self)
    (proto.pointee.n_int32_data, proto.pointee.int32_data) = arena.typed(tensor.int32Data, as: Int32.self)
    (proto.pointee.n_int64_data, proto.pointee.int64_data) = arena.typed(tensor.int64Data, as: Int64.self)
    (proto.pointee.n_double_data, proto.pointee.double_data) = arena.typed(tensor.doubleData, as: Double.self)
    (proto.pointee.n_uint64_data, proto.pointee.uint64_data) = arena.typed(tensor.uint64Data, as: UInt64.self)
    proto.pointee.n_string_data = tensor.stringData.count
    proto.pointee.string_data = arena.array(tensor.stringData.map(arena.binary))
    proto.pointee.name = arena.string(tensor.name)
    proto.pointee.doc_string = arena.string(tensor.docString)
    if let raw = tensor.rawData {
      proto.pointee.has_raw_data = 1
      proto.pointee.raw_data = arena.binary(raw)
    }
    let external = tensor.externalData.map(writePair)
    proto.pointee.n_external_data = external.count
    proto.pointee.external_data = arena.pointers(external)
    if let location = tensor.dataLocation {
      proto.pointee.has_data_location = 1
      proto.pointee.data_location = Onnx__TensorProto__DataLocation(rawValue: numericCast(location.rawValue))
    }
    setExtras(&proto.pointee.base, tensor.extras)
    return proto
  }

  private func writeSparseTensor(_ sparse: SparseTensor) throws -> UnsafeMutablePointer<Onnx__SparseTensorProto> {
    let proto = arena.message(Onnx__SparseTensorProto.self) { onnx__sparse_tensor_proto__init($0) }
    proto.pointee.values = try sparse.values.map { try writeTensor(transformTensor($0)) }
    proto.pointee.indices = try sparse.indices.map { try writeTensor(transformTensor($0)) }
    proto.pointee.n_dims = sparse.dims.count
    proto.pointee.dims = arena.array(sparse.dims)
    setExtras(&proto.pointee.base, sparse.extras)
    return proto
  }

  private func writeOpset(_ opset: OpsetImport) -> UnsafeMutablePointer<Onnx__OperatorSetIdProto> {
    let proto = arena.message(Onnx__OperatorSetIdProto.self) { onnx__operator_set_id_proto__init($0) }
    proto.pointee.domain = arena.string(opset.domain)
    proto.pointee.has_version = opset.version != nil ? 1 : 0
    proto.pointee.version = opset.version ?? 0
    setExtras(&proto.pointee.base, opset.extras)
    return proto
  }

  private func writePair(_ pair: StringPair) -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
    let proto = arena.message(Onnx__StringStringEntryProto.self) { onnx__string_string_entry_proto__init($0) }
    proto.pointee.key = plainString(pair.key, FieldNumber.pairKey, pair.extras)
    proto.pointee.value = plainString(pair.value, FieldNumber.pairValue, pair.extras)
    setExtras(&proto.pointee.base, pair.extras)
    return proto
  }

  /// Training info is kept packed; unpack it into the arena's lifetime for re-packing.
  private func unpackTrainingInfo(_ bytes: Data) throws -> UnsafeMutablePointer<Onnx__TrainingInfoProto> {
    let unpacked = bytes.withUnsafeBytes { buffer in
      onnx__training_info_proto__unpack(nil, buffer.count, buffer.baseAddress?.assumingMemoryBound(to: UInt8.self))
    }
    guard let unpacked else {
      throw ONNXQATError.badArgument("a training_info entry of the model is not a valid TrainingInfoProto")
    }
    arena.adopt { onnx__training_info_proto__free_unpacked(unpacked, nil) }
    return unpacked
  }

  /// Optional strings that the IR keeps as plain strings: "" is written only when it was explicit.
  private func plainString(_ string: String, _ field: UInt32, _ extras: WireExtras)
    -> UnsafeMutablePointer<CChar>?
  {
    string.isEmpty && !extras.explicitDefaults.contains(field) ? nil : arena.string(string)
  }

  private func setExtras(_ base: inout ProtobufCMessage, _ extras: WireExtras) {
    guard !extras.unknownFields.isEmpty else { return }
    let fields = extras.unknownFields.map { field in
      ProtobufCMessageUnknownField(
        tag: field.fieldNumber, wire_type: ProtobufCWireType(rawValue: numericCast(field.wireType)),
        len: field.payload.count, data: arena.bytes(field.payload))
    }
    base.n_unknown_fields = UInt32(fields.count)
    base.unknown_fields = arena.array(fields)
  }
}
