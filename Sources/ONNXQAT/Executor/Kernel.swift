import Foundation

/// What a kernel sees when it runs one node: its inputs, attributes and opset version, and the
/// interpreter (for subgraphs).
public struct KernelContext {
  public let node: Node
  public let inputs: [HostTensor?]
  /// The opset version imported for the node's domain.
  public let opsetVersion: Int
  let interpreter: Interpreter
  let environment: Interpreter.Environment
  /// Attributes after resolving function attribute references.
  let attributes: [Attribute]

  /// Input `index`, which must be present.
  public func input(_ index: Int) throws -> HostTensor {
    guard index < inputs.count, let tensor = inputs[index] else {
      throw failure("input \(index) is missing")
    }
    return tensor
  }

  /// Input `index` when present (optional inputs).
  public func optionalInput(_ index: Int) -> HostTensor? {
    index < inputs.count ? inputs[index] : nil
  }

  public func attribute(_ name: String) -> Attribute? { attributes.first { $0.name == name } }

  public func int(_ name: String) -> Int? {
    if case .int(let value)? = attribute(name)?.value { return Int(value) }
    return nil
  }

  public func int(_ name: String, default fallback: Int) -> Int { int(name) ?? fallback }

  public func float(_ name: String) -> Float? {
    if case .float(let value)? = attribute(name)?.value { return value }
    return nil
  }

  public func float(_ name: String, default fallback: Float) -> Float { float(name) ?? fallback }

  public func ints(_ name: String) -> [Int]? {
    if case .ints(let values)? = attribute(name)?.value { return values.map { Int($0) } }
    return nil
  }

  public func floats(_ name: String) -> [Float]? {
    if case .floats(let values)? = attribute(name)?.value { return values }
    return nil
  }

  public func string(_ name: String) -> String? {
    if case .string(let value)? = attribute(name)?.value { return String(decoding: value, as: UTF8.self) }
    return nil
  }

  public func string(_ name: String, default fallback: String) -> String { string(name) ?? fallback }

  public func strings(_ name: String) -> [String]? {
    if case .strings(let values)? = attribute(name)?.value {
      return values.map { String(decoding: $0, as: UTF8.self) }
    }
    return nil
  }

  public func tensor(_ name: String) throws -> HostTensor? {
    if case .tensor(let value)? = attribute(name)?.value { return try HostTensor(value) }
    return nil
  }

  public func graph(_ name: String) -> Graph? {
    if case .graph(let value)? = attribute(name)?.value { return value }
    return nil
  }

  /// Runs a subgraph attribute with `inputs` bound to its inputs; outer values are visible.
  public func runSubgraph(_ graph: Graph, inputs: [HostTensor]) throws -> [HostTensor] {
    try interpreter.runSubgraph(graph, inputs: inputs, parent: environment)
  }

  /// An error naming this node.
  public func failure(_ reason: String) -> ONNXQATError {
    .badArgument("node \(node.label): \(reason)")
  }
}

/// A kernel computes a node's outputs from its inputs (nil for omitted optional outputs).
public typealias Kernel = (KernelContext) throws -> [HostTensor?]

/// The kernels the interpreter knows, by domain and op type, each for a range of opset versions.
public struct KernelRegistry {
  struct Entry {
    let versions: ClosedRange<Int>
    let kernel: Kernel
  }
  private var table: [String: [Entry]] = [:]
  /// Whether the kernels of the ops a fused Conv step runs itself (`ConvEpilogueChain.fusedOps`)
  /// are onnx-qat's own: true for `standard` and its copies until one of those ops is registered
  /// again. A registry built from scratch or given its own Conv, BatchNormalization, Relu, Clip,
  /// LeakyRelu, QuantizeLinear, DequantizeLinear, QLinearConv or MatMul gets no fused or
  /// packed-weight steps, so its kernels run.
  private(set) var fusedOpsAreBuiltIn = false

  public init() {}

  private static func key(_ domain: String, _ op: String) -> String {
    (domain == "ai.onnx" ? "" : domain) + "::" + op
  }

  /// Registers `kernel` for `op` in `domain` for opset versions `versions` (default: every version).
  public mutating func register(
    _ op: String, domain: String = "", versions: ClosedRange<Int> = 1...Int.max, _ kernel: @escaping Kernel
  ) {
    table[Self.key(domain, op), default: []].append(Entry(versions: versions, kernel: kernel))
    if Self.key(domain, op) == Self.key("", op) && ConvEpilogueChain.fusedOps.contains(op) {
      fusedOpsAreBuiltIn = false
    }
  }

  public func kernel(_ op: String, domain: String, version: Int) -> Kernel? {
    table[Self.key(domain, op)]?.first { $0.versions.contains(version) }?.kernel
  }

  /// Every registered op as `domain::op` (the default domain as `::op`).
  public var ops: [String] { table.keys.sorted() }

  /// The kernels of onnx-qat.
  public static let standard: KernelRegistry = {
    var registry = KernelRegistry()
    for register in KernelRegistry.families { register(&registry) }
    registry.fusedOpsAreBuiltIn = true
    return registry
  }()
}
