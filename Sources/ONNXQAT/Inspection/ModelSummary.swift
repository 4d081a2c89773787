import Foundation

/// What `onnx-qat inspect` reports about a model. Encodes to the JSON described by
/// `Schemas/inspect.schema.json`.
public struct ModelSummary: JSONReport, Codable, Equatable, Sendable {
  public struct Opset: Codable, Equatable, Sendable {
    public var domain: String
    public var version: Int64
  }
  public struct Tensor: Codable, Equatable, Sendable {
    public var name: String
    /// The type in text syntax, e.g. `float[N,3,224,224]`.
    public var type: String
  }
  public struct OpCount: Codable, Equatable, Sendable {
    /// `Conv`, or `com.microsoft.QLinearAdd` for other domains.
    public var op: String
    public var count: Int
  }
  public struct FunctionInfo: Codable, Equatable, Sendable {
    public var domain: String
    public var name: String
    public var nodes: Int
  }
  public struct ExternalFile: Codable, Equatable, Sendable {
    public var location: String
    public var tensors: Int
    public var bytes: Int
  }

  public var irVersion: Int64?
  public var opsets: [Opset]
  public var producerName: String?
  public var producerVersion: String?
  public var graphName: String?
  public var inputs: [Tensor]
  public var outputs: [Tensor]
  /// Nodes in the main graph, subgraphs and functions.
  public var nodeCount: Int
  public var ops: [OpCount]
  /// Elements and payload bytes of all initializers (dense and sparse), subgraphs included.
  public var parameterCount: Int
  public var parameterBytes: Int
  public var initializerCount: Int
  public var subgraphCount: Int
  public var functions: [FunctionInfo]
  public var externalData: [ExternalFile]
  public var metadata: [String: String]

  /// Summarizes `model`.
  public init(_ model: Model) {
    let printer = TextPrinter()
    irVersion = model.irVersion
    opsets = model.opsetImports.map { Opset(domain: $0.normalizedDomain, version: $0.version ?? 0) }
    producerName = model.producerName
    producerVersion = model.producerVersion
    graphName = model.graph.name
    let describe = { (value: Value) in
      Tensor(name: value.name, type: value.type.map(printer.typeString) ?? "unknown")
    }
    let graphInitializers = Set(model.graph.initializers.map { ObjectIdentifier($0) })
    inputs = model.graph.inputs.filter { !graphInitializers.contains(ObjectIdentifier($0)) }.map(describe)
    outputs = model.graph.outputs.map(describe)
    let graphs = model.allGraphs
    let nodes = graphs.flatMap(\.nodes)
    nodeCount = nodes.count
    var histogram: [String: Int] = [:]
    for node in nodes {
      histogram[
        node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain).\(node.opType)", default: 0] +=
        1
    }
    ops = histogram.map { OpCount(op: $0.key, count: $0.value) }
      .sorted { $0.count != $1.count ? $0.count > $1.count : $0.op < $1.op }
    let dense = graphs.flatMap { $0.initializers.compactMap(\.initializer) }
    let sparse = graphs.flatMap { $0.sparseInitializers.compactMap(\.sparseInitializer) }
    initializerCount = dense.count + sparse.count
    // Saturating sums: declared sizes are not bounded by the file's size.
    let add = { (total: Int, more: Int) -> Int in
      let (sum, overflow) = total.addingReportingOverflow(more)
      return overflow ? Int.max : sum
    }
    parameterCount = dense.map(\.elementCount).reduce(0, add)
    parameterCount = add(parameterCount, sparse.map { $0.values?.elementCount ?? 0 }.reduce(0, add))
    parameterBytes = dense.map(\.storedByteCount).reduce(0, add)
    parameterBytes = add(
      parameterBytes,
      sparse.map { add($0.values?.storedByteCount ?? 0, $0.indices?.storedByteCount ?? 0) }.reduce(0, add))
    subgraphCount = graphs.count - 1 - model.functions.count
    functions = model.functions.map {
      FunctionInfo(domain: $0.domain ?? "", name: $0.name ?? "", nodes: $0.body.allNodes.count)
    }
    var files: [String: ExternalFile] = [:]
    for tensor in dense where tensor.isExternal {
      let location = tensor.externalValue("location") ?? ""
      files[location, default: ExternalFile(location: location, tensors: 0, bytes: 0)].tensors += 1
      files[location]?.bytes += tensor.storedByteCount
    }
    externalData = files.values.sorted { $0.location < $1.location }
    metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
  }

  /// The human-readable report of `inspect`.
  public var text: String {
    var lines: [String] = []
    lines.append("ir_version: \(irVersion.map(String.init) ?? "absent")")
    lines.append(
      "opsets: " + opsets.map { "\($0.domain.isEmpty ? "ai.onnx" : $0.domain) \($0.version)" }.joined(separator: ", "))
    if producerName != nil || producerVersion != nil {
      lines.append("producer: \([producerName, producerVersion].compactMap { $0 }.joined(separator: " "))")
    }
    lines.append("graph: \(graphName ?? "")")
    lines.append("inputs:")
    lines += inputs.map { "  \($0.name): \($0.type)" }
    lines.append("outputs:")
    lines += outputs.map { "  \($0.name): \($0.type)" }
    lines.append("nodes: \(nodeCount)")
    lines += ops.map { "  \($0.op): \($0.count)" }
    lines.append(
      "parameters: \(parameterCount) in \(initializerCount) initializers, \(ByteCount.describe(parameterBytes))")
    if subgraphCount > 0 { lines.append("subgraphs: \(subgraphCount)") }
    if !functions.isEmpty {
      lines.append("functions:")
      lines += functions.map { "  \($0.domain.isEmpty ? "" : $0.domain + ".")\($0.name): \($0.nodes) nodes" }
    }
    if !externalData.isEmpty {
      lines.append("external data:")
      lines += externalData.map { "  \($0.location): \($0.tensors) tensors, \(ByteCount.describe($0.bytes))" }
    }
    if !metadata.isEmpty {
      lines.append("metadata:")
      lines += metadata.keys.sorted().map { "  \($0): \(metadata[$0] ?? "")" }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// Byte counts for people: `1234 bytes`, `1.2 MiB`.
enum ByteCount {
  static func describe(_ bytes: Int) -> String {
    let units = ["KiB", "MiB", "GiB", "TiB"]
    guard bytes >= 1024 else { return "\(bytes) bytes" }
    var value = Double(bytes)
    var unit = -1
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return String(format: "%.1f", value) + " \(units[unit]) (\(bytes) bytes)"
  }
}
