import Foundation

/// Prints a model in ONNX's text syntax (the language `onnx.parser` reads), for golden files,
/// reviews and diffs. Output is deterministic: file order everywhere, shortest round-trip float
/// formatting, no addresses or dates.
///
/// What the syntax cannot say is printed as `#` comments, which the parser skips: doc strings,
/// sparse initializers, quantization annotations, training info, unknown (newer) fields, and
/// tensors elided by size or stored in external data (dtype, shape, element count and hash).
public struct TextPrinter {
  public struct Options: Sendable {
    /// Print every tensor's values, however large (external tensors too, when mapped).
    public var full = false
    /// Tensors with more elements than this are elided unless `full`.
    public var maxInlineElements = 16
    public init(full: Bool = false) { self.full = full }
  }

  public let options: Options
  public init(options: Options = Options()) { self.options = options }

  /// The whole model: header, main graph, then local functions.
  public func print(_ model: Model) -> String {
    var out = TextBuffer()
    printHeader(model, &out)
    printGraph(model.graph, &out, indent: "")
    for function in model.functions {
      out.line("")
      printFunction(function, &out)
    }
    return out.text
  }

  // MARK: Model

  private func printHeader(_ model: Model, _ out: inout TextBuffer) {
    var fields: [String] = []
    if let version = model.irVersion { fields.append("ir_version: \(version)") }
    fields.append("opset_import: [\(opsetList(model.opsetImports))]")
    if let name = model.producerName { fields.append("producer_name: \(quoted(name))") }
    if let version = model.producerVersion { fields.append("producer_version: \(quoted(version))") }
    if let domain = model.domain { fields.append("domain: \(quoted(domain))") }
    if let version = model.modelVersion { fields.append("model_version: \(version)") }
    if let doc = model.docString { fields.append("doc_string: \(quoted(doc))") }
    if !model.metadataProps.isEmpty {
      fields.append(
        "metadata_props: [\(model.metadataProps.map { "\(quoted($0.key)) : \(quoted($0.value))" }.joined(separator: ", "))]"
      )
    }
    comment(extras: model.extras, what: "model", &out, indent: "")
    for (index, info) in model.trainingInfo.enumerated() {
      out.line("# training_info[\(index)]: \(info.count) bytes, \(Hash.fnv1a64(info))")
    }
    out.line("<")
    for (index, field) in fields.enumerated() {
      out.line("  \(field)\(index < fields.count - 1 ? "," : "")")
    }
    out.line(">")
  }

  private func opsetList(_ opsets: [OpsetImport]) -> String {
    opsets.map { "\(quoted($0.domain ?? "")) : \($0.version ?? 0)" }.joined(separator: ", ")
  }

  // MARK: Graphs

  /// `name (inputs) => (outputs) <initializers, value infos> { nodes }`.
  func printGraph(_ graph: Graph, _ out: inout TextBuffer, indent: String, prefix: String = "") {
    docComment(graph.docString, &out, indent: indent)
    comment(extras: graph.extras, what: "graph", &out, indent: indent)
    for value in graph.sparseInitializers {
      guard let sparse = value.sparseInitializer else { continue }
      out.line("\(indent)# sparse_initializer \(identifier(value.name)): \(sparseSummary(sparse))")
    }
    for annotation in graph.quantizationAnnotations {
      let pairs = annotation.quantParameterTensorNames.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
      out.line("\(indent)# quantization_annotation \(identifier(annotation.tensorName ?? "")): \(pairs)")
    }
    let inputs = graph.inputs.map(typedName).joined(separator: ", ")
    let outputs = graph.outputs.map(typedName).joined(separator: ", ")
    out.line("\(indent)\(prefix)\(identifier(graph.name ?? "")) (\(inputs)) => (\(outputs))")
    let declarations = graph.initializers.compactMap { value in value.initializer.map { (value, $0) } }
    let infos = graph.valueInfos
    if !declarations.isEmpty || !infos.isEmpty {
      var entries: [(String, String?)] = declarations.map { tensorDeclaration($1, name: $0.name) }
      entries += infos.map { (typedName($0), nil) }
      out.line("\(indent)  <")
      for (index, entry) in entries.enumerated() {
        let comma = index < entries.count - 1 ? "," : ""
        out.line("\(indent)    \(entry.0)\(comma)\(entry.1.map { "  # \($0)" } ?? "")")
      }
      out.line("\(indent)  >")
    }
    out.line("\(indent){")
    for node in graph.nodes { printNode(node, &out, indent: indent + "  ") }
    out.line("\(indent)}")
  }

  private func printNode(_ node: Node, _ out: inout TextBuffer, indent: String) {
    docComment(node.docString, &out, indent: indent)
    comment(extras: node.extras, what: "node", &out, indent: indent)
    var text = indent
    if !node.name.isEmpty { text += "[\(identifier(node.name))] " }
    let outputs = node.outputs.map { $0.map { identifier($0.name) } ?? "" }.joined(separator: ", ")
    if !outputs.isEmpty { text += "\(outputs) = " }
    text += node.domain.isEmpty ? identifier(node.opType) : "\(node.domain).\(identifier(node.opType))"
    if let overload = node.extras.unknownString(NewerField.nodeOverload) { text += ":\(identifier(overload))" }
    var notes: [String] = []
    let hasSubgraphs = node.attributes.contains { !$0.subgraphs.isEmpty }
    let attributeTexts = node.attributes.map { attribute -> String? in
      guard attribute.subgraphs.isEmpty else { return nil }
      let (text, note) = attributeString(attribute)
      if let note { notes.append("attribute \(identifier(attribute.name)): \(note)") }
      return text
    }
    for note in notes { out.line("\(indent)# \(note)") }
    let inputs = node.inputs.map { $0.map { identifier($0.name) } ?? "" }.joined(separator: ", ")
    if !hasSubgraphs {
      let plain = attributeTexts.compactMap { $0 }
      if !plain.isEmpty { text += " <\(plain.joined(separator: ", "))>" }
      out.line("\(text) (\(inputs))")
      return
    }
    // With subgraphs, one attribute per line, in the node's order:
    // `Op (inputs) <a: int = 1, body: graph = g (...) => (...) {...}>`.
    out.line("\(text) (\(inputs)) <")
    var first = true
    for (attribute, plainText) in zip(node.attributes, attributeTexts) {
      if !first { out.appendToLastLine(",") }
      switch attribute.value {
      case .graph(let graph):
        printGraph(graph, &out, indent: indent + "  ", prefix: "\(identifier(attribute.name)): graph = ")
      case .graphs(let graphs):
        out.line("\(indent)  \(identifier(attribute.name)): graphs = [")
        for (graphIndex, graph) in graphs.enumerated() {
          printGraph(graph, &out, indent: indent + "    ")
          if graphIndex < graphs.count - 1 { out.appendToLastLine(",") }
        }
        out.line("\(indent)  ]")
      default:
        guard let plainText else { continue }
        out.line("\(indent)  \(plainText)")
      }
      first = false
    }
    out.line("\(indent)>")
  }

  // MARK: Functions

  private func printFunction(_ function: Function, _ out: inout TextBuffer) {
    docComment(function.docString, &out, indent: "")
    comment(extras: function.extras, what: "function", &out, indent: "")
    out.line("<")
    out.line("  domain: \(quoted(function.domain ?? "")),")
    if let overload = function.extras.unknownString(NewerField.functionOverload) {
      out.line("  overload: \(quoted(overload)),")
    }
    out.line("  opset_import: [\(opsetList(function.opsetImports))]")
    out.line(">")
    let attributes =
      function.attributeNames.isEmpty
      ? "" : " <\(function.attributeNames.map(identifier).joined(separator: ", "))>"
    let inputs = function.body.inputs.map { identifier($0.name) }.joined(separator: ", ")
    let outputs = function.body.outputs.map { identifier($0.name) }.joined(separator: ", ")
    out.line("\(identifier(function.name ?? ""))\(attributes) (\(inputs)) => (\(outputs))")
    out.line("{")
    for node in function.body.nodes { printNode(node, &out, indent: "  ") }
    out.line("}")
  }

  // MARK: Attributes

  /// The attribute as `name: type = value`, or nil when the syntax cannot express it; the
  /// note says what was elided or left out.
  private func attributeString(_ attribute: Attribute) -> (String?, String?) {
    let name = identifier(attribute.name)
    if let reference = attribute.refAttrName {
      return ("\(name): \(kindName(attribute.value.kind)) = @\(identifier(reference))", nil)
    }
    switch attribute.value {
    case .float(let value): return ("\(name): float = \(format(value))", nil)
    case .int(let value): return ("\(name): int = \(value)", nil)
    case .string(let value): return ("\(name): string = \(quoted(value))", nil)
    case .floats(let values): return ("\(name): floats = [\(values.map(format).joined(separator: ", "))]", nil)
    case .ints(let values): return ("\(name): ints = [\(values.map(String.init).joined(separator: ", "))]", nil)
    case .strings(let values): return ("\(name): strings = [\(values.map(quoted).joined(separator: ", "))]", nil)
    case .tensor(let tensor):
      let (text, note) = tensorLiteral(tensor)
      return ("\(name): tensor = \(text)", note)
    case .tensors(let tensors):
      let literals = tensors.map(tensorLiteral)
      let notes = literals.enumerated().compactMap { index, literal in literal.1.map { "[\(index)] \($0)" } }
      return (
        "\(name): tensors = [\(literals.map(\.0).joined(separator: ", "))]",
        notes.isEmpty ? nil : notes.joined(separator: "; ")
      )
    case .typeProto(let type): return ("\(name): type_proto = \(typeString(type))", nil)
    case .typeProtos(let types):
      return ("\(name): type_protos = [\(types.map(typeString).joined(separator: ", "))]", nil)
    case .sparseTensor(let sparse):
      return (nil, "sparse_tensor \(sparseSummary(sparse)) (not expressible in the text syntax)")
    case .sparseTensors(let list): return (nil, "\(list.count) sparse tensors (not expressible in the text syntax)")
    case .graph, .graphs: return (nil, nil)
    case .none: return (nil, "has no value")
    }
  }

  private func kindName(_ kind: Attribute.Kind) -> String {
    switch kind {
    case .float: return "float"
    case .int: return "int"
    case .string: return "string"
    case .tensor: return "tensor"
    case .graph: return "graph"
    case .floats: return "floats"
    case .ints: return "ints"
    case .strings: return "strings"
    case .tensors: return "tensors"
    case .graphs: return "graphs"
    case .sparseTensor: return "sparse_tensor"
    case .sparseTensors: return "sparse_tensors"
    case .typeProto: return "type_proto"
    case .typeProtos: return "type_protos"
    case .undefined: return "undefined"
    }
  }

  // MARK: Tensors

  /// An initializer entry: `float[2] W = {1, 2}`, or `float[64,3,7,7] W` with a note when elided.
  private func tensorDeclaration(_ tensor: Tensor, name: String) -> (String, String?) {
    let type = tensorTypePrefix(tensor)
    if let values = inlineValues(tensor) { return ("\(type) \(identifier(name)) = {\(values)}", nil) }
    return ("\(type) \(identifier(name))", elisionNote(tensor))
  }

  /// A tensor value for an attribute: `float[2] {1, 2}` (named ones: `float[2] name {1, 2}`).
  private func tensorLiteral(_ tensor: Tensor) -> (String, String?) {
    let type = tensorTypePrefix(tensor)
    let named = tensor.name.map { $0.isEmpty ? "" : " \(identifier($0))" } ?? ""
    if let values = inlineValues(tensor) { return ("\(type)\(named) {\(values)}", nil) }
    // The syntax has no elided literal: print zero values of the right count would lie, so
    // keep the type and put the summary in a comment (the parser then reads an empty tensor).
    return ("\(type)\(named) {}", elisionNote(tensor))
  }

  /// `float[2,3]`; scalars are plain `float` (the parser's spelling for a rank-0 literal).
  private func tensorTypePrefix(_ tensor: Tensor) -> String {
    let name = tensor.elementType.name
    return tensor.dims.isEmpty ? name : "\(name)[\(tensor.dims.map(String.init).joined(separator: ","))]"
  }

  private func inlineValues(_ tensor: Tensor) -> String? {
    let count = tensor.elementCount
    guard options.full || count <= options.maxInlineElements else { return nil }
    if tensor.isExternal && tensor.externalBytes == nil { return nil }
    guard let strings = TensorValues.strings(tensor) else { return nil }
    return strings.joined(separator: ", ")
  }

  private func elisionNote(_ tensor: Tensor) -> String {
    var note = "\(tensor.elementCount) values"
    if let bytes = tensor.isExternal ? tensor.externalBytes : tensor.payloadBytes() {
      note += ", \(Hash.fnv1a64(bytes))"
    } else if tensor.elementType == .string {
      note += ", \(Hash.fnv1a64(tensor.stringData.reduce(Data(), +)))"
    }
    if tensor.isExternal {
      let location = tensor.externalValue("location") ?? "?"
      note += ", external data in \(quoted(location)) at offset \(tensor.externalValue("offset") ?? "0")"
    }
    return note
  }

  private func sparseSummary(_ sparse: SparseTensor) -> String {
    let values = sparse.values.map { "\($0.elementType.name)[\($0.elementCount) values]" } ?? "no values"
    return "dims \(sparse.dims), \(values)"
  }

  // MARK: Types and names

  private func typedName(_ value: Value) -> String {
    guard let type = value.type else { return identifier(value.name) }
    return "\(typeString(type)) \(identifier(value.name))"
  }

  func typeString(_ type: TypeInfo) -> String {
    switch type.kind {
    case .tensor(let tensor): return tensorTypeString(tensor)
    case .sparseTensor(let tensor): return "sparse_tensor(\(tensorTypeString(tensor)))"
    case .sequence(let element): return "seq(\(element.map(typeString) ?? ""))"
    case .map(let key, let value): return "map(\((key ?? .undefined).name), \(value.map(typeString) ?? ""))"
    case .optional(let element): return "optional(\(element.map(typeString) ?? ""))"
    case .unset: return "undefined"
    }
  }

  private func tensorTypeString(_ tensor: TensorType) -> String {
    // The syntax spells an unknown rank `float[]` and a scalar `float`.
    let element = (tensor.elementType ?? .undefined).name
    guard let shape = tensor.shape else { return element + "[]" }
    if shape.dims.isEmpty { return element }
    let dims = shape.dims.map { dimension -> String in
      switch dimension.size {
      case .known(let size): return String(size)
      case .symbolic(let name): return identifier(name)
      case .unknown: return "?"
      }
    }
    return "\(element)[\(dims.joined(separator: ","))]"
  }

  /// Names the parser reads bare (`[A-Za-z_][A-Za-z0-9_]*`, not a type keyword) stay bare;
  /// everything else is quoted.
  func identifier(_ name: String) -> String {
    guard let first = name.unicodeScalars.first,
      first == "_" || (first.isASCII && CharacterSet.letters.contains(first)),
      name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && CharacterSet.alphanumerics.contains($0)) }),
      !TextPrinter.keywords.contains(name)
    else { return quoted(name) }
    return name
  }

  private static let keywords: Set<String> = Set([
    "seq", "map", "optional", "sparse_tensor", "tensor", "graph", "int", "ints", "float", "floats",
    "string", "strings", "tensors", "graphs", "type_proto", "type_protos", "undefined",
  ]).union((1...28).map { DataType(rawValue: Int32($0)).name })

  // MARK: Comments

  private func docComment(_ doc: String?, _ out: inout TextBuffer, indent: String) {
    guard let doc else { return }
    for line in doc.split(separator: "\n", omittingEmptySubsequences: false) {
      out.line("\(indent)# doc: \(line)")
    }
  }

  private func comment(extras: WireExtras, what: String, _ out: inout TextBuffer, indent: String) {
    for field in extras.unknownFields {
      let known = NewerField.names[what]?[field.fieldNumber]
      if known == "overload" { continue }  // printed in the syntax itself
      let label = known.map { "\(what) field \(field.fieldNumber) '\($0)'" } ?? "\(what) field \(field.fieldNumber)"
      out.line(
        "\(indent)# \(label) (newer than ONNX 1.12, kept as is): \(field.payload.count) bytes, \(Hash.fnv1a64(field.payload))"
      )
    }
  }
}

/// Formats floats the shortest way that reads back to the same value (Swift's own algorithm),
/// with the parser's spellings of the special values.
func format(_ value: Float) -> String {
  if value.isNaN { return "nan" }
  if value.isInfinite { return value < 0 ? "-inf" : "inf" }
  return "\(value)"
}

func format(_ value: Double) -> String {
  if value.isNaN { return "nan" }
  if value.isInfinite { return value < 0 ? "-inf" : "inf" }
  return "\(value)"
}

/// A double-quoted string with `"` and `\` escaped.
func quoted(_ string: String) -> String {
  var result = "\""
  for character in string {
    if character == "\"" || character == "\\" { result.append("\\") }
    result.append(character)
  }
  return result + "\""
}

func quoted(_ bytes: Data) -> String {
  quoted(String(decoding: bytes, as: UTF8.self))
}

/// Lines of text with a running buffer.
struct TextBuffer {
  private(set) var text = ""
  mutating func line(_ line: String) {
    text += line
    text += "\n"
  }
  mutating func appendToLastLine(_ suffix: String) {
    if text.hasSuffix("\n") { text.removeLast() }
    text += suffix + "\n"
  }
}
