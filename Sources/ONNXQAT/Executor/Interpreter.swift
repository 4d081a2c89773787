import Foundation

/// Options of a run.
public struct ExecutionOptions: Sendable {
  /// How QLinear* and integer requantization round: onnxruntime's float path, or TFLite's
  /// fixed-point multiply and shift (DESIGN.md section 4).
  public enum Requantization: String, Sendable { case float, fixedPoint = "fixed-point" }
  public var requantization: Requantization = .float
  /// Worker threads for kernels that split work (1 = the calling thread only).
  public var threads: Int = 1
  /// Keep the outputs of nodes computed only from initializers (ConstantCache) across the runs of
  /// one Interpreter, up to `constantCacheLimit` bytes.
  public var cachesConstants = true
  public var constantCacheLimit = 64 << 20
  public init() {}
}

/// Runs a model's graph over `HostTensor`s, node by node in file order. Dynamic shapes come from
/// the actual inputs; each intermediate is released after its last use; subgraphs (If, Loop,
/// Scan) and model-local functions run through the same machinery.
public final class Interpreter {
  /// Values computed so far in one graph run; subgraph environments see their parents'.
  final class Environment {
    var values: [ObjectIdentifier: HostTensor] = [:]
    let parent: Environment?
    init(parent: Environment?) { self.parent = parent }
    func lookup(_ value: Value) -> HostTensor? {
      values[ObjectIdentifier(value)] ?? parent?.lookup(value)
    }
  }

  public let model: Model
  public let options: ExecutionOptions
  /// Called with every graph input and every node output of the main graph as it is computed
  /// (calibration watches activations through it). The tensor may be freed after the call.
  public var observer: ((Value, HostTensor) -> Void)?
  let registry: KernelRegistry
  private var constants: [ObjectIdentifier: HostTensor] = [:]
  /// Main-graph node outputs kept across runs (nil when the options turn it off).
  private lazy var constantCache: ConstantCache? =
    options.cachesConstants ? ConstantCache(graph: model.graph, limit: options.constantCacheLimit) : nil
  /// `lastUses` of each graph run so far, and the kernel of each node run by `runGraph`, computed
  /// once (the model must not change while an Interpreter runs it, as its initializers are
  /// decoded once too). Nodes given to `evaluate` are not kept: they may be freed and their
  /// identifiers reused.
  private var lastUseCache: [ObjectIdentifier: [[ObjectIdentifier]]] = [:]
  private var kernelCache: [ObjectIdentifier: Kernel] = [:]

  /// Prepares `model`: checks that every node (subgraphs and functions included) has a kernel,
  /// listing all that do not, and decodes the initializers once.
  public init(
    model: Model, options: ExecutionOptions = ExecutionOptions(), registry: KernelRegistry = .standard,
    checkingKernels: Bool = true
  ) throws {
    self.model = model
    self.options = options
    self.registry = registry
    let missing = checkingKernels ? unsupportedNodes() : []
    if !missing.isEmpty {
      throw ONNXQATError.badArgument(
        "the executor cannot run \(missing.count) node\(missing.count == 1 ? "" : "s"):\n"
          + missing.joined(separator: "\n"))
    }
    for graph in model.allGraphs {
      for value in graph.initializers {
        guard let tensor = value.initializer else { continue }
        do {
          constants[ObjectIdentifier(value)] = try HostTensor(tensor)
        } catch {
          throw ONNXQATError.badArgument("initializer '\(value.name)': \(error)")
        }
      }
    }
  }

  /// Each node the registry has no kernel for, as `  OpType (domain, opset N): node label`.
  public func unsupportedNodes() -> [String] {
    var lines: [String] = []
    var seen = Set<String>()
    func check(_ graph: Graph, opsets: [OpsetImport]) {
      for node in graph.allNodes {
        if function(for: node) != nil { continue }
        let version = Self.version(node.domain, opsets)
        if registry.kernel(node.opType, domain: node.domain, version: version) == nil {
          let key = "\(node.domain)::\(node.opType)::\(version)"
          let domain = node.domain.isEmpty ? "ai.onnx" : node.domain
          if seen.insert(key).inserted {
            lines.append("  \(node.opType) (\(domain), opset \(version)): node \(node.label)")
          }
        }
      }
    }
    check(model.graph, opsets: model.opsetImports)
    for function in model.functions {
      check(function.body, opsets: function.opsetImports.isEmpty ? model.opsetImports : function.opsetImports)
    }
    return lines
  }

  static func version(_ domain: String, _ opsets: [OpsetImport]) -> Int {
    let wanted = domain == "ai.onnx" ? "" : domain
    return Int(opsets.first { $0.normalizedDomain == wanted }?.version ?? 1)
  }

  /// The model-local function a node calls: same domain, name and overload.
  private func function(for node: Node) -> Function? {
    if model.functions.isEmpty { return nil }
    let overload = node.extras.unknownString(NewerField.nodeOverload) ?? ""
    return model.functions.first {
      ($0.name ?? "") == node.opType && ($0.domain ?? "") == node.domain && ($0.overload ?? "") == overload
    }
  }

  // MARK: Running

  /// Runs the main graph. `inputs` maps graph input names to tensors; every input that is not
  /// an initializer must be given, with the declared element type and a compatible shape.
  public func run(_ inputs: [String: HostTensor]) throws -> [String: HostTensor] {
    let graph = model.graph
    let environment = Environment(parent: nil)
    let initializerIDs = Set(graph.initializers.map { ObjectIdentifier($0) })
    for name in inputs.keys where !graph.inputs.contains(where: { $0.name == name }) {
      throw ONNXQATError.badArgument(
        "input '\(name)' is not an input of the model (inputs: \(graph.inputs.filter { !initializerIDs.contains(ObjectIdentifier($0)) }.map(\.name).joined(separator: ", ")))"
      )
    }
    for value in graph.inputs {
      if let tensor = inputs[value.name] {
        try InputCheck.check(tensor, against: value)
        environment.values[ObjectIdentifier(value)] = tensor
        observer?(value, tensor)
      } else if !initializerIDs.contains(ObjectIdentifier(value)) {
        throw ONNXQATError.badArgument("input '\(value.name)' is missing (expected \(InputCheck.describe(value)))")
      }
    }
    let outputs = try runGraph(graph, environment: environment, opsets: model.opsetImports)
    var result: [String: HostTensor] = [:]
    for (value, tensor) in zip(graph.outputs, outputs) { result[value.name] = tensor }
    return result
  }

  /// Runs one node of the main graph (or a node built for the purpose) on the given inputs with
  /// the model's opsets: constant folding evaluates nodes through it.
  public func evaluate(_ node: Node, inputs: [HostTensor?]) throws -> [HostTensor?] {
    try execute(node, inputs: inputs, environment: Environment(parent: nil), opsets: model.opsetImports)
  }

  /// True when the registry (or a model-local function) can run `node` at the model's opsets.
  public func canEvaluate(_ node: Node) -> Bool {
    if function(for: node) != nil { return true }
    return registry.kernel(node.opType, domain: node.domain, version: Self.version(node.domain, model.opsetImports))
      != nil
  }

  func runSubgraph(_ graph: Graph, inputs: [HostTensor], parent: Environment) throws -> [HostTensor] {
    let environment = Environment(parent: parent)
    for (value, tensor) in zip(graph.inputs, inputs) { environment.values[ObjectIdentifier(value)] = tensor }
    return try runGraph(graph, environment: environment, opsets: currentOpsets)
  }

  /// The opset imports in force (a function body's own while it runs).
  private var currentOpsets: [OpsetImport] = []

  private func runGraph(_ graph: Graph, environment: Environment, opsets: [OpsetImport]) throws -> [HostTensor] {
    let saved = currentOpsets
    currentOpsets = opsets
    defer { currentOpsets = saved }
    let lastUse: [[ObjectIdentifier]]
    if let cached = lastUseCache[ObjectIdentifier(graph)] {
      lastUse = cached
    } else {
      lastUse = Self.lastUses(graph)
      lastUseCache[ObjectIdentifier(graph)] = lastUse
    }
    let outputIDs = Set(graph.outputs.map { ObjectIdentifier($0) })
    let cache = graph === model.graph ? constantCache : nil
    for (index, node) in graph.nodes.enumerated() {
      let results: [HostTensor?]
      if let stored = cache?.outputs(of: node) {
        results = stored
      } else {
        let inputs = try node.inputs.map { value -> HostTensor? in
          guard let value else { return nil }
          guard let tensor = environment.lookup(value) ?? constants[ObjectIdentifier(value)] else {
            throw ONNXQATError.badArgument("node \(node.label): input '\(value.name)' has no value")
          }
          return tensor
        }
        results = try execute(node, inputs: inputs, environment: environment, opsets: opsets, cachingKernel: true)
        cache?.store(results, of: node)
      }
      let observing = graph === model.graph ? observer : nil
      for (output, tensor) in zip(node.outputs, results) {
        guard let output, let tensor else { continue }
        environment.values[ObjectIdentifier(output)] = tensor
        observing?(output, tensor)
      }
      for value in lastUse[index] where !outputIDs.contains(value) {
        environment.values[value] = nil
      }
    }
    return try graph.outputs.map { value in
      guard let tensor = environment.lookup(value) ?? constants[ObjectIdentifier(value)] else {
        throw ONNXQATError.badArgument("graph output '\(value.name)' was not computed")
      }
      return tensor
    }
  }

  /// For each node index, the values whose last use in this graph (subgraph captures
  /// included) is that node.
  private static func lastUses(_ graph: Graph) -> [[ObjectIdentifier]] {
    var last: [ObjectIdentifier: Int] = [:]
    for (index, node) in graph.nodes.enumerated() {
      let consumed = node.inputs + node.subgraphs.flatMap { $0.allNodes.flatMap(\.inputs) }
      for value in consumed.compactMap({ $0 }) { last[ObjectIdentifier(value)] = index }
    }
    var result = [[ObjectIdentifier]](repeating: [], count: graph.nodes.count)
    for (value, index) in last { result[index].append(value) }
    return result
  }

  private func execute(
    _ node: Node, inputs: [HostTensor?], environment: Environment, opsets: [OpsetImport], cachingKernel: Bool = false
  ) throws -> [HostTensor?] {
    if let function = function(for: node) {
      return try call(function, node: node, inputs: inputs, environment: environment)
    }
    let version = Self.version(node.domain, opsets)
    let kernel: Kernel
    if cachingKernel, let cached = kernelCache[ObjectIdentifier(node)] {
      kernel = cached
    } else {
      guard let found = registry.kernel(node.opType, domain: node.domain, version: version) else {
        throw ONNXQATError.badArgument("node \(node.label): no kernel for \(node.opType) at opset \(version)")
      }
      kernel = found
      if cachingKernel { kernelCache[ObjectIdentifier(node)] = found }
    }
    let context = KernelContext(
      node: node, inputs: inputs, opsetVersion: version, interpreter: self, environment: environment,
      attributes: resolvedAttributes(node))
    let outputs = try kernel(context)
    guard outputs.count >= node.outputs.compactMap({ $0 }).count || outputs.count >= node.outputs.count else {
      throw ONNXQATError.badArgument("node \(node.label): the kernel produced \(outputs.count) outputs")
    }
    return outputs
  }

  /// Attribute values of the function being called (the call's, then the function's defaults),
  /// for resolving `ref_attr_name`.
  private var callerAttributes: [[Attribute]] = []

  private func resolvedAttributes(_ node: Node) -> [Attribute] {
    guard let caller = callerAttributes.last, node.attributes.contains(where: { $0.refAttrName != nil }) else {
      return node.attributes
    }
    return node.attributes.compactMap { attribute in
      guard let reference = attribute.refAttrName else { return attribute }
      guard var bound = caller.first(where: { $0.name == reference }) else { return nil }
      bound.name = attribute.name
      return bound
    }
  }

  private func call(_ function: Function, node: Node, inputs: [HostTensor?], environment: Environment) throws
    -> [HostTensor?]
  {
    let body = function.body
    let scope = Environment(parent: nil)
    for (value, tensor) in zip(body.inputs, inputs) {
      if let tensor { scope.values[ObjectIdentifier(value)] = tensor }
    }
    let given = resolvedAttributes(node)
    callerAttributes.append(given + function.attributeDefaults.filter { d in !given.contains { $0.name == d.name } })
    defer { callerAttributes.removeLast() }
    let opsets = function.opsetImports.isEmpty ? model.opsetImports : function.opsetImports
    return try runGraph(body, environment: scope, opsets: opsets)
  }
}
