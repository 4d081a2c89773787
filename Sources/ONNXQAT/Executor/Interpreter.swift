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
  /// Hand the buffers of released intermediates to the tensors kernels make next (BufferPool),
  /// across the runs of one Interpreter, keeping at most the largest live set of its runs.
  public var reusesBuffers = true
  public init() {}
}

/// Runs a model's graph over `HostTensor`s, node by node in file order. Dynamic shapes come from
/// the actual inputs; each intermediate is released after its last use; subgraphs (If, Loop,
/// Scan) and model-local functions run through the same machinery.
public final class Interpreter {
  /// Values computed so far in one graph run, in the slots of its graph's plan; subgraph
  /// environments see their parents'.
  final class Environment {
    var slots: [HostTensor?]
    let slotOf: [ObjectIdentifier: Int]
    let parent: Environment?
    init(plan: GraphPlan, parent: Environment?) {
      slots = [HostTensor?](repeating: nil, count: plan.slotCount)
      slotOf = plan.slotOf
      self.parent = parent
    }
    /// An environment holding nothing (a node run on its own by `evaluate`).
    init(parent: Environment?) {
      slots = []
      slotOf = [:]
      self.parent = parent
    }
    func lookup(_ value: Value) -> HostTensor? {
      if let slot = slotOf[ObjectIdentifier(value)], let tensor = slots[slot] { return tensor }
      return parent?.lookup(value)
    }
  }

  public let model: Model
  /// The options; only the thread count may change between runs (`SampleLanes` does).
  public internal(set) var options: ExecutionOptions
  /// Called with every graph input and every node output of the main graph as it is computed
  /// (calibration watches activations through it). The tensor may be freed after the call.
  public var observer: ((Value, HostTensor) -> Void)?
  let registry: KernelRegistry
  private var constants: [ObjectIdentifier: HostTensor] = [:]
  /// Main-graph node outputs kept across runs (nil when the options turn it off).
  private lazy var constantCache: ConstantCache? =
    options.cachesConstants ? ConstantCache(graph: model.graph, limit: options.constantCacheLimit) : nil
  /// The plan of each graph run so far (the model must not change while an Interpreter runs it,
  /// as its initializers are decoded once too). Nodes given to `evaluate` are not planned: they
  /// may be freed and their identifiers reused.
  private var plans: [ObjectIdentifier: GraphPlan] = [:]
  /// Buffers of released intermediates (nil when the options turn reuse off).
  let bufferPool: BufferPool?
  /// The most bytes of tensors held in one graph's slots at once over the runs so far (values
  /// sharing a buffer counted once each): the pool's bound.
  private var largestLiveBytes = 0

  /// Prepares `model`: checks that every node (subgraphs and functions included) has a kernel,
  /// listing all that do not, and decodes the initializers once.
  public init(
    model: Model, options: ExecutionOptions = ExecutionOptions(), registry: KernelRegistry = .standard,
    checkingKernels: Bool = true
  ) throws {
    self.model = model
    self.options = options
    self.registry = registry
    bufferPool = options.reusesBuffers ? BufferPool(limit: 0) : nil
    let missing = checkingKernels ? unsupportedNodes() : []
    if !missing.isEmpty {
      throw ONNXQATError.badArgument(
        "the executor cannot run \(missing.count) node\(missing.count == 1 ? "" : "s"):\n"
          + missing.joined(separator: "\n"))
    }
    let graphs = model.allGraphs
    constants.reserveCapacity(graphs.reduce(0) { $0 + $1.initializers.count })
    for graph in graphs {
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

  /// A second interpreter of `other`'s model with the same options and registry, for running
  /// other samples at the same time on another thread. It shares `other`'s decoded initializers
  /// (read only; never pooled, since `other` holds them), its main graph's plan (made now if
  /// need be) and its constant cache, whose changes are locked (`ConstantCache`,
  /// `PackingBudget`); it has its own buffer pool and observer. So a lane costs no planning: a
  /// plan of a graph of 100,000 nodes takes about a second. Its kernels were checked when `other`
  /// was made.
  init(lane other: Interpreter) {
    model = other.model
    options = other.options
    registry = other.registry
    bufferPool = options.reusesBuffers ? BufferPool(limit: 0) : nil
    constants = other.constants
    other.prepare()
    plans = other.plans
    constantCache = other.constantCache
  }

  /// True when the model is one graph without subgraphs or model-local functions: then every plan
  /// a run needs is made by `prepare()`, and runs read the model without touching its caches, so
  /// interpreters of it may run on different threads at once.
  var runsOneGraph: Bool { model.functions.isEmpty && model.allGraphs.count == 1 }

  /// Frees the buffers its pool keeps for the next run (when it will not run again soon).
  func releasePooledBuffers() { bufferPool?.empty() }

  /// Makes the main graph's plan (and constant cache) now rather than on the first run; returns it.
  @discardableResult func prepare() -> GraphPlan { plan(of: model.graph, opsets: model.opsetImports) }

  /// Each node the registry has no kernel for, as `  OpType (domain, opset N): node label`.
  public func unsupportedNodes() -> [String] {
    var lines: [String] = []
    var seen = Set<String>()
    // Kernels found so far, by domain, op type and version (one registry look-up for each).
    var found = Set<KernelKey>()
    // Op types of the default domain found at the graph's default opset.
    var foundStandard = Set<String>()
    func check(_ graph: Graph, opsets: [OpsetImport]) {
      foundStandard.removeAll(keepingCapacity: true)
      let defaultVersion = Self.version("", opsets)
      for node in graph.allNodes {
        let standard = node.domain.isEmpty && model.functions.isEmpty
        if standard && foundStandard.contains(node.opType) { continue }
        if function(for: node) != nil { continue }
        let version = standard ? defaultVersion : Self.version(node.domain, opsets)
        let key = KernelKey(domain: node.domain, opType: node.opType, version: version)
        if found.contains(key) {
          if standard { foundStandard.insert(node.opType) }
          continue
        }
        if registry.kernel(node.opType, domain: node.domain, version: version) != nil {
          found.insert(key)
          if standard { foundStandard.insert(node.opType) }
        } else {
          let domain = node.domain.isEmpty ? "ai.onnx" : node.domain
          if seen.insert("\(node.domain)::\(node.opType)::\(version)").inserted {
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

  /// A kernel's identity for memoizing registry look-ups.
  private struct KernelKey: Hashable {
    let domain: String
    let opType: String
    let version: Int
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
    let plan = self.plan(of: graph, opsets: model.opsetImports)
    let environment = Environment(plan: plan, parent: nil)
    for name in inputs.keys where !graph.inputs.contains(where: { $0.name == name }) {
      let names = graph.inputs.filter { !graph.isInitializer($0) }.map(\.name)
      throw ONNXQATError.badArgument(
        "input '\(name)' is not an input of the model (inputs: \(names.joined(separator: ", ")))")
    }
    for (value, slot) in zip(graph.inputs, plan.inputSlots) {
      if let tensor = inputs[value.name] {
        try InputCheck.check(tensor, against: value)
        environment.slots[slot] = tensor
        observer?(value, tensor)
      } else if !graph.isInitializer(value) {
        throw ONNXQATError.badArgument("input '\(value.name)' is missing (expected \(InputCheck.describe(value)))")
      }
    }
    let outputs = try BufferPool.using(bufferPool) {
      // Buffers the run dropped without releasing them go back to the pool (BufferPool.reclaim).
      defer { bufferPool?.reclaim(endOfRun: true) }
      return try runGraph(graph, plan: plan, environment: environment, opsets: model.opsetImports)
    }
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
    let opsets = currentOpsets
    let plan = self.plan(of: graph, opsets: opsets)
    let environment = Environment(plan: plan, parent: parent)
    for (slot, tensor) in zip(plan.inputSlots, inputs) { environment.slots[slot] = tensor }
    return try runGraph(graph, plan: plan, environment: environment, opsets: opsets)
  }

  /// The opset imports in force (a function body's own while it runs).
  private var currentOpsets: [OpsetImport] = []

  /// The plan of `graph`, made on its first run.
  private func plan(of graph: Graph, opsets: [OpsetImport]) -> GraphPlan {
    if let plan = plans[ObjectIdentifier(graph)] { return plan }
    let plan = GraphPlan(
      graph: graph, opsets: opsets, constants: constants, cache: graph === model.graph ? constantCache : nil,
      registry: registry, function: { [unowned self] in self.function(for: $0) })
    plans[ObjectIdentifier(graph)] = plan
    return plan
  }

  /// The value of a planned input: its slot, else the enclosing environments, else the initializers.
  @inline(__always)
  private func resolve(_ operand: GraphPlan.Operand, in environment: Environment) -> HostTensor?? {
    switch operand {
    case .none:
      return .some(nil)
    case .slot(let slot, _, _):
      // The value and constant are bound only when the slot is empty (no retains on the common path).
      if let tensor = environment.slots[slot] { return tensor }
      guard case .slot(_, let value, let constant) = operand else { return nil }
      if let tensor = environment.parent?.lookup(value) ?? constant { return tensor }
      return nil
    case .outer(let value, let constant):
      if let tensor = environment.parent?.lookup(value) ?? constant { return tensor }
      return nil
    }
  }

  private static func name(_ operand: GraphPlan.Operand) -> String {
    switch operand {
    case .none: return ""
    case .slot(_, let value, _), .outer(let value, _): return value.name
    }
  }

  private func runGraph(_ graph: Graph, plan: GraphPlan, environment: Environment, opsets: [OpsetImport]) throws
    -> [HostTensor]
  {
    let saved = currentOpsets
    currentOpsets = opsets
    defer { currentOpsets = saved }
    let cache = graph === model.graph ? constantCache : nil
    let observing = graph === model.graph ? observer : nil
    // Bytes of the tensors in this graph's slots (the pool's bound follows its largest value).
    var liveBytes = environment.slots.reduce(0) { $0 + ($1?.buffer.byteCount ?? 0) }
    // One array for every step's inputs: emptied after each step, it keeps its storage unless a
    // kernel kept the array (then the next step's appends allocate anew; the kept one is unchanged).
    var inputs: [HostTensor?] = []
    for step in plan.steps {
      let results: [HostTensor?]
      if step.constant, let stored = cache?.outputs(of: step.node) {
        results = stored
      } else {
        inputs.reserveCapacity(step.inputs.count)
        for index in step.inputs {
          // A filled slot is the common case: its tensor is taken without copying the operand.
          let slot = plan.operandSlots[index]
          if slot >= 0, let tensor = environment.slots[slot] {
            inputs.append(tensor)
            continue
          }
          let operand = plan.operands[index]
          guard let tensor = resolve(operand, in: environment) else {
            throw ONNXQATError.badArgument("node \(step.node.label): input '\(Self.name(operand))' has no value")
          }
          inputs.append(tensor)
        }
        results = try execute(step, inputs: inputs, environment: environment, opsets: opsets)
        // Emptied now, so the released inputs' buffers are free for the pool below.
        inputs.removeAll(keepingCapacity: true)
        if step.constant { cache?.store(results, of: step.node) }
      }
      for offset in 0..<min(step.outputs.count, results.count) {
        let slot = plan.outputSlots[step.outputs.lowerBound + offset]
        guard slot >= 0, let tensor = results[offset] else { continue }
        environment.slots[slot] = tensor
        liveBytes += tensor.buffer.byteCount
        if let observing, let output = step.node.outputs[offset] { observing(output, tensor) }
      }
      if let bufferPool {
        largestLiveBytes = max(largestLiveBytes, liveBytes)
        bufferPool.limit = largestLiveBytes
        for index in step.released { liveBytes -= release(slot: plan.frees[index], of: environment, to: bufferPool) }
        // An observed fused step ran its nodes one by one and dropped their intermediates.
        if observing != nil { bufferPool.reclaim(endOfRun: false) }
      } else {
        for index in step.released { environment.slots[plan.frees[index]] = nil }
      }
    }
    return try zip(graph.outputs, plan.results).map { value, operand in
      guard case .some(let found) = resolve(operand, in: environment), let tensor = found else {
        throw ONNXQATError.badArgument("graph output '\(value.name)' was not computed")
      }
      return tensor
    }
  }

  /// Empties `slot` after its value's last use and gives its buffer to `pool` when nothing else
  /// holds it (BufferPool); returns the bytes the slot held.
  private func release(slot: Int, of environment: Environment, to pool: BufferPool) -> Int {
    var buffer = environment.slots[slot]?.buffer
    environment.slots[slot] = nil
    let size = buffer?.byteCount ?? 0
    pool.release(&buffer)
    return size
  }

  /// Runs one planned node.
  private func execute(_ step: GraphPlan.Step, inputs: [HostTensor?], environment: Environment, opsets: [OpsetImport])
    throws -> [HostTensor?]
  {
    let node = step.node
    let outputs: [HostTensor?]
    switch step.callee {
    case .function(let function):
      return try call(function, node: node, inputs: inputs, environment: environment)
    case .missing(let version):
      throw ONNXQATError.badArgument("node \(node.label): no kernel for \(node.opType) at opset \(version)")
    case .kernel(let kernel, let version):
      let context = KernelContext(
        node: node, inputs: inputs, opsetVersion: version, interpreter: self, environment: environment,
        attributes: step.attributes ?? resolvedAttributes(node))
      outputs = try kernel(context)
    }
    guard outputs.count >= step.namedOutputs else {
      throw ONNXQATError.badArgument("node \(node.label): the kernel produced \(outputs.count) outputs")
    }
    return outputs
  }

  private func execute(
    _ node: Node, inputs: [HostTensor?], environment: Environment, opsets: [OpsetImport]
  ) throws -> [HostTensor?] {
    if let function = function(for: node) {
      return try call(function, node: node, inputs: inputs, environment: environment)
    }
    let version = Self.version(node.domain, opsets)
    guard let kernel = registry.kernel(node.opType, domain: node.domain, version: version) else {
      throw ONNXQATError.badArgument("node \(node.label): no kernel for \(node.opType) at opset \(version)")
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
    let opsets = function.opsetImports.isEmpty ? model.opsetImports : function.opsetImports
    let plan = self.plan(of: body, opsets: opsets)
    let scope = Environment(plan: plan, parent: nil)
    for (slot, tensor) in zip(plan.inputSlots, inputs) {
      if let tensor { scope.slots[slot] = tensor }
    }
    let given = resolvedAttributes(node)
    callerAttributes.append(given + function.attributeDefaults.filter { d in !given.contains { $0.name == d.name } })
    defer { callerAttributes.removeLast() }
    return try runGraph(body, plan: plan, environment: scope, opsets: opsets)
  }
}
