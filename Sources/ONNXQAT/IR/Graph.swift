/// A graph (ONNX `GraphProto`): inputs, initializers, nodes in order, and outputs. Subgraphs
/// (If/Loop/Scan bodies) are graphs too, owned by a node, and may use values of enclosing graphs.
///
/// All edits go through the methods below. Each checks everything first and throws
/// `ONNXQATError.refusedEdit` without touching the graph when the edit would break it.
public final class Graph {
  /// `TensorAnnotation`: quantization parameter names attached to a tensor.
  public struct TensorAnnotation {
    public var tensorName: String?
    public var quantParameterTensorNames: [StringPair]
    public var extras = WireExtras()
    public init(tensorName: String?, quantParameterTensorNames: [StringPair]) {
      self.tensorName = tensorName
      self.quantParameterTensorNames = quantParameterTensorNames
    }
  }

  public var name: String?
  public var docString: String?
  public var inputs: [Value] = [] { didSet { if !isAppendingInput { nameCache = nil } } }
  /// True while `appendInput` edits `inputs`, which keeps the name cache up to date itself.
  private var isAppendingInput = false

  /// Appends a graph input, keeping the name cache (assigning `inputs` rebuilds it on next use,
  /// which in a loop of appends to an IR 3 model's inputs would cost O(n) each).
  public func appendInput(_ value: Value) {
    isAppendingInput = true
    inputs.append(value)
    isAppendingInput = false
    if let existing = nameCache?[value.name], existing !== value {
      nameCache = nil  // another value had the name: rebuild with the lookup order's precedence
    } else {
      nameCache?[value.name] = value
    }
  }
  public var outputs: [Value] = []
  /// Dense initializers, in file order.
  public var initializers: [Value] { initializerOrder.ordered() }
  public private(set) var sparseInitializers: [Value] = []
  /// The nodes in order. Edits cost O(1) amortized (`OrderedObjectList`); reading the list after
  /// an edit costs one walk of it, so passes read it once and edit through the methods below.
  public var nodes: [Node] { nodeOrder.ordered() }
  /// Values that carry a `value_info` entry, in file order.
  public var valueInfos: [Value] = []
  public var quantizationAnnotations: [TensorAnnotation] = []
  public var extras = WireExtras()
  /// The node whose attribute holds this graph; nil for a model's main graph.
  public internal(set) weak var owningNode: Node?

  public init(name: String? = nil) { self.name = name }

  /// Nodes refer to their graph without a reference count or weak reference (`Node.graph`):
  /// those still here forget it as the graph goes.
  deinit { nodeOrder.forEach { $0.graph = nil } }

  /// How many nodes hold a subgraph (kept by the edits and by `Node.attributes`), so that the
  /// walks for subgraphs cost nothing in the common graph without any.
  var subgraphNodeCount = 0

  /// The set of `definedNames` and of node names, built on first use and kept up to date by the
  /// edits below, so that name checks and `uniqueName` cost O(1) in large graphs.
  private var nameCache: [String: Value]?
  /// The node order, with O(1) edits.
  private var nodeOrder = OrderedObjectList<Node>()
  /// The dense initializers, with O(1) membership and removal.
  private var initializerOrder = OrderedObjectList<Value>()

  /// The position of `node` in `nodes`, if it is there.
  public func index(of node: Node) -> Int? { nodeOrder.position(of: node) }

  /// The number of nodes (without building the ordered list).
  public var nodeCount: Int { nodeOrder.count }

  /// Whether `node` is one of this graph's nodes (O(1)).
  public func contains(_ node: Node) -> Bool { nodeOrder.contains(node) }

  /// Whether `value` is a dense initializer of this graph (O(1)).
  public func isInitializer(_ value: Value) -> Bool { initializerOrder.contains(value) }
  private var nodeNameCache: Set<String>?

  /// Whether `name` is defined in this graph (an input, initializer or node output).
  public func isDefined(_ name: String) -> Bool { value(named: name) != nil }

  /// The value defined in this graph with the given name (inputs first, then initializers,
  /// sparse initializers and node outputs, as the names are looked up in a model).
  public func value(named name: String) -> Value? {
    if let cache = nameCache { return cache[name] }
    // Built in reverse lookup order, each name stored unconditionally: the last store, which
    // stays, is the first value in lookup order (one hash per value, no concatenated list).
    var cache: [String: Value] = [:]
    cache.reserveCapacity(inputs.count + initializerOrder.count + sparseInitializers.count + nodeOrder.count)
    for node in nodes.reversed() {
      for output in node.outputs.reversed() { if let output { cache[output.name] = output } }
    }
    for value in sparseInitializers.reversed() { cache[value.name] = value }
    for value in initializers.reversed() { cache[value.name] = value }
    for value in inputs.reversed() { cache[value.name] = value }
    nameCache = cache
    return cache[name]
  }

  /// Makes `node` (just placed in the order) a node of this graph.
  /// `namesRecorded`: its output names are in the name cache already (`recordOutputNames`).
  private func adopt(_ node: Node, namesRecorded: Bool = false) {
    node.graph = self
    if namesRecorded {
      nodeNameCache?.insert(node.name)
    } else {
      noteDefined(node)
    }
    if node.hasSubgraphs { subgraphNodeCount += 1 }
  }

  /// Records a new node's output and node names. Every caller has checked that no output name
  /// is defined (which also built the name cache), so each name is one insertion.
  private func noteDefined(_ node: Node) {
    for output in node.outputs { if let output { nameCache?[output.name] = output } }
    nodeNameCache?.insert(node.name)
  }

  /// Makes room for `nodes` more nodes (of one output each) and `initializers` more
  /// initializers, so that an edit adding many (insert adds two Q/DQ nodes per tensor) does not
  /// grow the name tables and the node and initializer lists one doubling at a time.
  public func reserveCapacity(nodes: Int, initializers: Int) {
    _ = isDefined("")  // builds the name cache
    let defined = nameCache?.count ?? 0
    nameCache?.reserveCapacity(defined + nodes + initializers)
    var names = nodeNameCache ?? Set(self.nodes.map(\.name))
    names.reserveCapacity(names.count + nodes)
    nodeNameCache = names
    nodeOrder.reserveCapacity(nodeOrder.count + nodes)
    initializerOrder.reserveCapacity(initializerOrder.count + initializers)
  }

  // MARK: Nodes

  /// Appends `node` at the end of the node list.
  public func append(_ node: Node) throws {
    try checkInsertable(node)
    nodeOrder.append(node)
    adopt(node)
  }

  /// Inserts `node` just before `anchor`.
  public func insert(_ node: Node, before anchor: Node) throws {
    try checkInsertable(node)
    guard nodeOrder.contains(anchor) else {
      throw ONNXQATError.refusedEdit("node \(anchor.label) is not in graph '\(name ?? "")'")
    }
    nodeOrder.insert(node, before: anchor)
    adopt(node)
  }

  /// A placement for `insert(_:)`: a new node and where it goes.
  public struct Placement {
    public var node: Node
    /// The node it goes next to; nil puts it first in the graph.
    public var anchor: Node?
    /// After the anchor (true) or before it (false).
    public var after: Bool
    public init(_ node: Node, anchor: Node?, after: Bool) {
      self.node = node
      self.anchor = anchor
      self.after = after
    }
  }

  /// Inserts many nodes at once, in one pass over the node list (inserting one at a time costs a
  /// search of the list each). Nodes placed at the same spot keep their order. Everything is
  /// checked first: a refused placement leaves the graph untouched.
  public func insert(_ placements: [Placement]) throws {
    try recordOutputNames(of: placements)
    // Each placement goes after the last node placed at the same spot, so such nodes keep their
    // order: before an anchor, inserting just before it does that by itself.
    var lastPlacedAfter: [ObjectIdentifier: Node] = [:]
    var lastPlacedFirst: Node?
    for placement in placements {
      guard let anchor = placement.anchor else {
        nodeOrder.insert(placement.node, after: lastPlacedFirst)
        lastPlacedFirst = placement.node
        continue
      }
      if placement.after {
        nodeOrder.insert(placement.node, after: lastPlacedAfter[ObjectIdentifier(anchor)] ?? anchor)
        lastPlacedAfter[ObjectIdentifier(anchor)] = placement.node
      } else {
        nodeOrder.insert(placement.node, before: anchor)
      }
    }
    for placement in placements { adopt(placement.node, namesRecorded: true) }
  }

  /// Checks `placements` as `insert(_:)` documents and records their output names in the name
  /// cache: one insertion per name checks it against the graph and the placements before it.
  /// When a check fails the names recorded so far are taken out again.
  private func recordOutputNames(of placements: [Placement]) throws {
    _ = isDefined("")  // builds the name cache
    // Held here, uniquely, while it is edited (no copy on write), and put back on every exit.
    var names = nameCache ?? [:]
    nameCache = nil
    defer { nameCache = names }
    var recorded: [String] = []
    recorded.reserveCapacity(placements.count)
    do {
      for placement in placements {
        let node = placement.node
        if node.graph != nil {
          throw ONNXQATError.refusedEdit("node \(node.label) already belongs to a graph")
        }
        for case let output? in node.outputs {
          if let previous = names.updateValue(output, forKey: output.name) {
            names[output.name] = previous
            throw ONNXQATError.refusedEdit(
              "node \(node.label) output '\(output.name)' is already defined in graph '\(name ?? "")'")
          }
          recorded.append(output.name)
        }
        if let anchor = placement.anchor, anchor.graph !== self || !nodeOrder.contains(anchor) {
          throw ONNXQATError.refusedEdit("node \(anchor.label) is not in graph '\(name ?? "")'")
        }
      }
    } catch {
      for name in recorded { names[name] = nil }
      throw error
    }
  }

  /// Inserts `node` just after `anchor`.
  public func insert(_ node: Node, after anchor: Node) throws {
    try checkInsertable(node)
    guard nodeOrder.contains(anchor) else {
      throw ONNXQATError.refusedEdit("node \(anchor.label) is not in graph '\(name ?? "")'")
    }
    nodeOrder.insert(node, after: anchor)
    adopt(node)
  }

  private func checkInsertable(_ node: Node) throws {
    if node.graph != nil {
      throw ONNXQATError.refusedEdit("node \(node.label) already belongs to a graph")
    }
    for output in node.outputs.compactMap({ $0 }) where isDefined(output.name) {
      throw ONNXQATError.refusedEdit(
        "node \(node.label) output '\(output.name)' is already defined in graph '\(name ?? "")'")
    }
  }

  /// Removes `node`. Refused when one of its outputs is still used or is a graph output.
  public func remove(_ node: Node) throws {
    try remove([node])
  }

  /// Removes a set of nodes together. Refused when any of their outputs is used by a node
  /// outside the set or is a graph output; then nothing is removed.
  public func remove(_ doomed: [Node]) throws {
    let doomedIDs = Set(doomed.map { ObjectIdentifier($0) })
    for node in doomed {
      guard node.graph === self else {
        throw ONNXQATError.refusedEdit("node \(node.label) is not in graph '\(name ?? "")'")
      }
      for output in node.outputs.compactMap({ $0 }) {
        if outputs.contains(where: { $0 === output }) {
          throw ONNXQATError.refusedEdit(
            "node \(node.label) output '\(output.name)' is a graph output")
        }
        if let user = output.users.first(where: { !doomedIDs.contains(ObjectIdentifier($0)) }) {
          throw ONNXQATError.refusedEdit(
            "node \(node.label) output '\(output.name)' is still used by node \(user.label)")
        }
      }
    }
    for node in doomed where nodeOrder.remove(node) {
      node.detachInputs()
      node.graph = nil
      if node.hasSubgraphs { subgraphNodeCount -= 1 }
    }
    for output in doomed.flatMap({ $0.outputs.compactMap { $0 } }) where nameCache?[output.name] === output {
      nameCache?[output.name] = nil
    }
  }

  /// Moves every use of `old` to `new`: node inputs here and in subgraphs that capture `old`.
  /// When `old` is a graph output, the edit is refused unless `replacingGraphOutputs`; then the
  /// output slot points at `new` too (the graph output takes `new`'s name).
  public func replaceAllUses(of old: Value, with new: Value, replacingGraphOutputs: Bool = false)
    throws
  {
    guard old !== new else { return }
    let outputSlots = outputs.indices.filter { outputs[$0] === old }
    if !outputSlots.isEmpty && !replacingGraphOutputs {
      throw ONNXQATError.refusedEdit(
        "value '\(old.name)' is an output of graph '\(name ?? "")'; pass replacingGraphOutputs to replace it")
    }
    for use in old.uses {
      try use.node?.replaceInput(at: use.inputIndex, with: new)
    }
    for slot in outputSlots { outputs[slot] = new }
  }

  // MARK: Initializers

  /// Adds a dense initializer named `name` holding `tensor` and returns its value.
  @discardableResult
  public func addInitializer(named name: String, _ tensor: Tensor) throws -> Value {
    if isDefined(name) {
      throw ONNXQATError.refusedEdit("name '\(name)' is already defined in graph '\(self.name ?? "")'")
    }
    let value = Value(name: name)
    var stored = tensor
    stored.name = name
    value.assignInitializer(stored)
    value.owningGraph = self
    initializerOrder.append(value)
    nameCache?[name] = value
    return value
  }

  /// Replaces the payload of an existing initializer (same name), e.g. after folding.
  public func setInitializer(_ value: Value, _ tensor: Tensor) throws {
    guard initializerOrder.contains(value) else {
      throw ONNXQATError.refusedEdit("'\(value.name)' is not an initializer of graph '\(name ?? "")'")
    }
    var stored = tensor
    stored.name = value.name
    value.assignInitializer(stored)
  }

  /// Removes an initializer. Refused while a node uses it or it is a graph output.
  public func removeInitializer(_ value: Value) throws {
    guard initializerOrder.contains(value) else {
      throw ONNXQATError.refusedEdit("'\(value.name)' is not an initializer of graph '\(name ?? "")'")
    }
    if let user = value.firstUser {
      throw ONNXQATError.refusedEdit("initializer '\(value.name)' is still used by node \(user.label)")
    }
    if outputs.contains(where: { $0 === value }) {
      throw ONNXQATError.refusedEdit("initializer '\(value.name)' is a graph output")
    }
    initializerOrder.remove(value)
    value.assignInitializer(nil)
    if !inputs.contains(where: { $0 === value }) {
      value.owningGraph = nil
      if nameCache?[value.name] === value { nameCache?[value.name] = nil }
    }
  }

  /// Declares `values` (created with their payloads set, distinct) as the initializers, in
  /// order; used by the loader.
  func attachInitializersFromLoader(_ values: [Value]) {
    initializerOrder.replaceAll(with: values)
    nameCache = nil
  }

  func attachSparseInitializer(_ value: Value, sparse: SparseTensor) {
    value.sparseInitializer = sparse
    value.owningGraph = self
    sparseInitializers.append(value)
    nameCache = nil
  }

  func attachNodesFromLoader(_ loaded: [Node]) {
    nodeOrder.forEach { $0.graph = nil }
    nodeOrder.replaceAll(with: loaded)
    subgraphNodeCount = 0
    for node in loaded {
      node.graph = self
      if node.hasSubgraphs { subgraphNodeCount += 1 }
    }
    nameCache = nil
    nodeNameCache = nil
  }

  // MARK: Names

  /// Renames `value`. Refused when another value of this graph already has the name.
  public func rename(_ value: Value, to newName: String) throws {
    guard value.name != newName else { return }
    if isDefined(newName) {
      throw ONNXQATError.refusedEdit("name '\(newName)' is already defined in graph '\(name ?? "")'")
    }
    if nameCache?[value.name] === value { nameCache?[value.name] = nil }
    value.name = newName
    nameCache?[newName] = value
  }

  /// Every value name defined in this graph: inputs, initializers and node outputs.
  public var definedNames: [String] {
    inputs.map(\.name) + initializers.map(\.name) + sparseInitializers.map(\.name)
      + nodes.flatMap { $0.outputs.compactMap { $0?.name } }
  }

  /// A name not defined in this graph, derived from `base`.
  public func uniqueName(_ base: String) -> String {
    if !isDefined(base) { return base }
    var counter = 1
    while isDefined("\(base)_\(counter)") { counter += 1 }
    return "\(base)_\(counter)"
  }

  /// A node name not used by a node of this graph, derived from `base` (empty stays empty).
  public func uniqueNodeName(_ base: String) -> String {
    guard !base.isEmpty, hasNodeNamed(base) else { return base }
    var counter = 1
    while hasNodeNamed("\(base)_\(counter)") { counter += 1 }
    return "\(base)_\(counter)"
  }

  /// Whether a node of this graph is named `name` (O(1) after the first call).
  public func hasNodeNamed(_ name: String) -> Bool {
    if let taken = nodeNameCache { return taken.contains(name) }
    let taken = Set(nodes.map(\.name))
    nodeNameCache = taken
    return taken.contains(name)
  }

  /// This graph's nodes followed, depth first, by the nodes of every subgraph.
  public var allNodes: [Node] {
    guard subgraphNodeCount > 0 else { return nodes }
    var result: [Node] = []
    result.reserveCapacity(nodeOrder.count)
    for node in nodes {
      result.append(node)
      if !node.hasSubgraphs { continue }
      for subgraph in node.subgraphs { result += subgraph.allNodes }
    }
    return result
  }

  /// Every subgraph nested anywhere below this graph.
  public var allSubgraphs: [Graph] {
    var result: [Graph] = []
    guard subgraphNodeCount > 0 else { return result }
    for node in nodes where node.hasSubgraphs {
      for subgraph in node.subgraphs { result += [subgraph] + subgraph.allSubgraphs }
    }
    return result
  }
}
