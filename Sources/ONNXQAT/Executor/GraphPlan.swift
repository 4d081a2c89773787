import Foundation

/// How an Interpreter runs one graph, worked out once per graph and reused by every run: each
/// value the graph defines (its inputs and its nodes' outputs) gets a slot in an array, each node
/// its kernel (or model-local function), its inputs as slots or constants, the slots its outputs
/// go to, its attributes (unless they refer to a calling function's) and the slots whose last use
/// it is. A run then costs array reads and writes per node instead of dictionary look-ups by
/// value identity, a registry look-up and a function search.
///
/// Input resolution is the unplanned interpreter's, in the same order: a value this graph defines
/// reads its slot; a slot not filled yet, and any value of an enclosing graph, is looked up in the
/// enclosing environments, then among the decoded initializers.
final class GraphPlan {
  /// Where a node input comes from.
  enum Operand {
    /// An omitted optional input.
    case none
    /// A value this graph defines; `value` and `constant` serve the fall-back look-up.
    case slot(Int, Value, constant: HostTensor?)
    /// A value of an enclosing graph or an initializer.
    case outer(Value, constant: HostTensor?)
  }

  /// What runs a node.
  enum Callee {
    case kernel(Kernel, version: Int)
    case function(Function)
    /// No kernel: running the node throws, naming the op and opset.
    case missing(version: Int)
  }

  /// One node of the graph, ready to run (a class: a run reads it with one retain).
  final class Step {
    let node: Node
    let callee: Callee
    /// The node's attributes; nil when one refers to a calling function's (resolved per call).
    let attributes: [Attribute]?
    /// `operands[inputs]` are its inputs.
    let inputs: Range<Int>
    /// `outputSlots[outputs]` are its outputs' slots (-1 for an omitted output).
    let outputs: Range<Int>
    /// `frees[released]` are the slots whose last use is this node.
    let released: Range<Int>
    /// The number of outputs the node names; a kernel must produce at least that many.
    let namedOutputs: Int
    /// The node is one of the ConstantCache's constant nodes.
    let constant: Bool

    init(
      node: Node, callee: Callee, attributes: [Attribute]?, inputs: Range<Int>, outputs: Range<Int>,
      released: Range<Int>, namedOutputs: Int, constant: Bool
    ) {
      self.node = node
      self.callee = callee
      self.attributes = attributes
      self.inputs = inputs
      self.outputs = outputs
      self.released = released
      self.namedOutputs = namedOutputs
      self.constant = constant
    }
  }

  let steps: [Step]
  let operands: [Operand]
  let outputSlots: [Int]
  let frees: [Int]
  /// Slot of each value this graph defines, by identity.
  let slotOf: [ObjectIdentifier: Int]
  let slotCount: Int
  /// The graph inputs' slots, in order.
  let inputSlots: [Int]
  /// The graph outputs.
  let results: [Operand]

  /// Plans `graph` run with `opsets`; `constants` are the interpreter's decoded initializers,
  /// `cache` the constant cache when this is the main graph.
  init(
    graph: Graph, opsets: [OpsetImport], constants: [ObjectIdentifier: HostTensor], cache: ConstantCache?,
    registry: KernelRegistry, function: (Node) -> Function?
  ) {
    let nodes = graph.nodes
    var slotOf: [ObjectIdentifier: Int] = [:]
    slotOf.reserveCapacity(graph.inputs.count + nodes.count)
    func define(_ value: Value) {
      let id = ObjectIdentifier(value)
      if slotOf[id] == nil { slotOf[id] = slotOf.count }
    }
    for value in graph.inputs { define(value) }
    for node in nodes {
      for case let output? in node.outputs { define(output) }
    }
    func operand(_ value: Value?) -> Operand {
      guard let value else { return .none }
      let id = ObjectIdentifier(value)
      let constant = constants[id]
      if let slot = slotOf[id] { return .slot(slot, value, constant: constant) }
      return .outer(value, constant: constant)
    }
    let graphOutputs = Set(graph.outputs.map { ObjectIdentifier($0) })
    var lastUse = [Int](repeating: -1, count: slotOf.count)
    for (index, node) in nodes.enumerated() {
      for case let input? in node.inputs { if let slot = slotOf[ObjectIdentifier(input)] { lastUse[slot] = index } }
      if node.attributes.isEmpty { continue }
      for subgraph in node.subgraphs {
        for inner in subgraph.allNodes {
          for case let input? in inner.inputs {
            if let slot = slotOf[ObjectIdentifier(input)] { lastUse[slot] = index }
          }
        }
      }
    }
    var releasedAt = [[Int]](repeating: [], count: nodes.count)
    for (id, slot) in slotOf where lastUse[slot] >= 0 && !graphOutputs.contains(id) {
      releasedAt[lastUse[slot]].append(slot)
    }
    // Callees of the default domain by op type (one registry look-up per op type, not per node).
    let defaultVersion = Interpreter.version("", opsets)
    var standardCallees: [String: Callee] = [:]
    func callee(_ node: Node) -> Callee {
      if let called = function(node) { return .function(called) }
      let standard = node.domain.isEmpty || node.domain == "ai.onnx"
      if standard, let known = standardCallees[node.opType] { return known }
      let version = standard ? defaultVersion : Interpreter.version(node.domain, opsets)
      let found: Callee =
        registry.kernel(node.opType, domain: node.domain, version: version).map { .kernel($0, version: version) }
        ?? .missing(version: version)
      if standard { standardCallees[node.opType] = found }
      return found
    }
    var steps: [Step] = []
    var operands: [Operand] = []
    var outputSlots: [Int] = []
    var frees: [Int] = []
    steps.reserveCapacity(nodes.count)
    for (index, node) in nodes.enumerated() {
      let inputStart = operands.count
      for input in node.inputs { operands.append(operand(input)) }
      let outputStart = outputSlots.count
      var named = 0
      for output in node.outputs {
        guard let output, let slot = slotOf[ObjectIdentifier(output)] else {
          outputSlots.append(-1)
          continue
        }
        outputSlots.append(slot)
        named += 1
      }
      let freeStart = frees.count
      frees += releasedAt[index]
      steps.append(
        Step(
          node: node, callee: callee(node),
          attributes: node.attributes.contains { $0.refAttrName != nil } ? nil : node.attributes,
          inputs: inputStart..<operands.count, outputs: outputStart..<outputSlots.count,
          released: freeStart..<frees.count, namedOutputs: named, constant: cache?.isConstant(node) ?? false))
    }
    self.steps = steps
    self.operands = operands
    self.outputSlots = outputSlots
    self.frees = frees
    self.slotOf = slotOf
    slotCount = slotOf.count
    inputSlots = graph.inputs.compactMap { slotOf[ObjectIdentifier($0)] }
    results = graph.outputs.map { operand($0) }
  }
}
