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
///
/// A Conv and the BatchNormalization, activation and/or fake-quant pair after it
/// (`ConvEpilogueChain`) run as one step (`FusedConvStep`), and so does a QuantizeLinear with the
/// DequantizeLinear that alone reads it (`FakeQuantPair`, `FusedFakeQuantStep`); each gives the
/// unfused bits without materializing the intermediates. A Conv step keeps its packed constant
/// weights across runs (`PackedConvWeights`), and so do QLinearConv and MatMul steps
/// (`PackedIntegerWeights`, `PackedMatMulWeights`).
final class GraphPlan {
  /// Whether new plans fuse Conv epilogues and fake-quant pairs (on; tests turn it off to compare
  /// with the unfused run).
  nonisolated(unsafe) static var fusesEpilogues = true
  /// Whether new plans' Conv steps keep their packed constant weights (on; tests turn it off).
  nonisolated(unsafe) static var cachesPackedWeights = true
  /// The bytes of packed weights one plan keeps at most.
  static let packedWeightsLimit = 256 << 20

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
  /// The slot of each operand (-1 when it is not a slot): read first, without copying the operand.
  let operandSlots: [Int]
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
    /// The slot of `value`, a new one unless it has one already (one hash in the common case).
    func define(_ value: Value) -> Int {
      let id = ObjectIdentifier(value)
      let fresh = slotOf.count
      guard let existing = slotOf.updateValue(fresh, forKey: id) else { return fresh }
      slotOf[id] = existing
      return existing
    }
    for value in graph.inputs { _ = define(value) }
    // The slot of each node output (-1: an omitted output), node after node, kept for the steps.
    var nodeOutputSlots: [Int] = []
    nodeOutputSlots.reserveCapacity(nodes.count)
    var nodeOutputStart: [Int] = []
    nodeOutputStart.reserveCapacity(nodes.count + 1)
    for node in nodes {
      nodeOutputStart.append(nodeOutputSlots.count)
      for output in node.outputs { nodeOutputSlots.append(output.map(define) ?? -1) }
    }
    nodeOutputStart.append(nodeOutputSlots.count)
    // `known` is the value's slot when already looked up (-1: none; nil: not looked up). Only
    // values with an initializer have a decoded constant (the model does not change meanwhile).
    func operand(_ value: Value?, slot known: Int? = nil) -> Operand {
      guard let value else { return .none }
      let id = ObjectIdentifier(value)
      let constant = value.hasInitializer ? constants[id] : nil
      if let slot = known ?? slotOf[id], slot >= 0 { return .slot(slot, value, constant: constant) }
      return .outer(value, constant: constant)
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
    // The slot of each node input (-1: none), node after node, so each is looked up once, and
    // the slots subgraphs read, by node.
    var nodeInputSlots: [Int] = []
    nodeInputSlots.reserveCapacity(2 * nodes.count)
    var nodeInputStart: [Int] = []
    nodeInputStart.reserveCapacity(nodes.count + 1)
    var subgraphReads: [(node: Int, slot: Int)] = []
    for (index, node) in nodes.enumerated() {
      nodeInputStart.append(nodeInputSlots.count)
      for input in node.inputs {
        nodeInputSlots.append(input.flatMap { slotOf[ObjectIdentifier($0)] } ?? -1)
      }
      if node.attributes.isEmpty { continue }
      for subgraph in node.subgraphs {
        for inner in subgraph.allNodes {
          for case let input? in inner.inputs {
            if let slot = slotOf[ObjectIdentifier(input)] { subgraphReads.append((index, slot)) }
          }
        }
      }
    }
    nodeInputStart.append(nodeInputSlots.count)
    let budget = PackingBudget(bytes: Self.packedWeightsLimit)
    /// A weight the same on every run: an initializer no graph input overrides (of this graph or
    /// an enclosing one), or the output of one of the constant cache's constant nodes.
    func isConstantWeight(_ w: Value) -> Bool {
      let id = ObjectIdentifier(w)
      return (constants.index(forKey: id) != nil && slotOf[id] == nil)
        || (w.producer.map { cache?.isConstant($0) ?? false } ?? false)
    }
    let callees = nodes.map(callee)
    // Fused steps: each node of a Conv chain or fake-quant pair runs at its last node (`position`).
    var fused: [Int: [Int]] = [:]
    if registry.fusedOpsAreBuiltIn && (Self.fusesEpilogues || Self.cachesPackedWeights) {
      let readers = ValueReaders(
        slotOf: slotOf, slotCount: slotOf.count, inputSlots: nodeInputSlots, inputStart: nodeInputStart,
        subgraphSlots: subgraphReads.map(\.slot), outputSlots: graph.outputs.compactMap { slotOf[ObjectIdentifier($0)] }
      )
      // A constant of one value when it is a decoded initializer (one look-up in the large
      // dictionaries; an initializer is a slot only as one of the few graph inputs).
      let graphInputs = Set(graph.inputs.map { ObjectIdentifier($0) })
      func isFixedScalar(_ value: Value) -> Bool {
        let id = ObjectIdentifier(value)
        if value.hasInitializer, let decoded = constants[id] {
          return !graphInputs.contains(id) && decoded.count == 1
        }
        return value.producer.map { cache?.isConstant($0) ?? false } ?? false
      }
      fused = Self.fusedGroups(
        nodes: nodes, readers: readers, version: defaultVersion,
        runsKernel: { index in
          if case .kernel = callees[index] { return true }
          return false
        }, isFixedScalar: isFixedScalar, isConstantNode: { cache?.isConstant($0) ?? false })
    }
    var position = Array(nodes.indices)
    // The members of the fused step ending at each node (an array: read once per node).
    var fusedAt = [[Int]?](repeating: nil, count: nodes.count)
    for (last, members) in fused {
      for index in members { position[index] = last }
      fusedAt[last] = members
    }
    var lastUse = [Int](repeating: -1, count: slotOf.count)
    for index in nodes.indices {
      let at = position[index]
      for slot in nodeInputSlots[nodeInputStart[index]..<nodeInputStart[index + 1]] where slot >= 0 {
        lastUse[slot] = max(lastUse[slot], at)
      }
    }
    for (index, slot) in subgraphReads { lastUse[slot] = max(lastUse[slot], position[index]) }
    // The slots released at each node, in slot order: `sortedFrees[releasedAt[i]..<releasedAt[i + 1]]`
    // (a counting sort by last use; graph outputs are never released).
    for output in graph.outputs {
      if let slot = slotOf[ObjectIdentifier(output)] { lastUse[slot] = -1 }
    }
    var releasedAt = [Int](repeating: 0, count: nodes.count + 1)
    for at in lastUse where at >= 0 { releasedAt[at + 1] += 1 }
    for index in nodes.indices { releasedAt[index + 1] += releasedAt[index] }
    var sortedFrees = [Int](repeating: 0, count: releasedAt[nodes.count])
    var nextFree = releasedAt
    for (slot, at) in lastUse.enumerated() where at >= 0 {
      sortedFrees[nextFree[at]] = slot
      nextFree[at] += 1
    }
    var steps: [Step] = []
    var operands: [Operand] = []
    var outputSlots: [Int] = []
    var frees: [Int] = []
    steps.reserveCapacity(nodes.count)
    for (index, node) in nodes.enumerated() where position[index] == index {
      let group = fusedAt[index]
      let members = group.map { $0.map { nodes[$0] } }
      let inputStart = operands.count
      if let members {
        for input in FusedMembers.inputs(of: members) { operands.append(operand(input)) }
      } else {
        for (offset, input) in node.inputs.enumerated() {
          operands.append(operand(input, slot: nodeInputSlots[nodeInputStart[index] + offset]))
        }
      }
      let outputStart = outputSlots.count
      var named = 0
      for slot in nodeOutputSlots[nodeOutputStart[index]..<nodeOutputStart[index + 1]] {
        outputSlots.append(slot)
        if slot >= 0 { named += 1 }
      }
      let freeStart = frees.count
      frees += sortedFrees[releasedAt[index]..<releasedAt[index + 1]]
      var planned = callees[index]
      if let members, let group, case .kernel(_, let version) = planned {
        let kernels = group.compactMap { member -> Kernel? in
          if case .kernel(let kernel, _) = callees[member] { return kernel }
          return nil
        }
        if members[0].opType == "QuantizeLinear" {
          let step = FusedFakeQuantStep(quantize: members[0], dequantize: node, kernels: kernels, graph: graph)
          planned = .kernel(step.run, version: version)
        } else {
          let weights =
            members[0].inputs.count > 1 && Self.cachesPackedWeights
            ? members[0].inputs[1].flatMap { w in isConstantWeight(w) ? PackedConvWeights(budget: budget) : nil }
            : nil
          if members.count > 1 || weights != nil {
            let step = FusedConvStep(nodes: members, kernels: kernels, graph: graph, weights: weights)
            planned = .kernel(step.run, version: version)
          }
        }
      }
      // QLinearConv and MatMul steps keep their packed constant weights (PackedIntegerWeights,
      // PackedMatMulWeights).
      if members == nil, Self.cachesPackedWeights, registry.fusedOpsAreBuiltIn, case .kernel(_, let version) = planned,
        let kernel = PackedIntegerWeights.kernel(for: node, budget: budget, isConstant: isConstantWeight)
          ?? PackedMatMulWeights.kernel(for: node, budget: budget, isConstant: isConstantWeight)
      {
        planned = .kernel(kernel, version: version)
      }
      steps.append(
        Step(
          node: node, callee: planned,
          attributes: node.attributes.contains { $0.refAttrName != nil } ? nil : node.attributes,
          inputs: inputStart..<operands.count, outputs: outputStart..<outputSlots.count,
          released: freeStart..<frees.count, namedOutputs: named, constant: cache?.isConstant(node) ?? false))
    }
    self.steps = steps
    self.operands = operands
    operandSlots = operands.map { operand in
      if case .slot(let slot, _, _) = operand { return slot }
      return -1
    }
    self.outputSlots = outputSlots
    self.frees = frees
    self.slotOf = slotOf
    slotCount = slotOf.count
    inputSlots = graph.inputs.compactMap { slotOf[ObjectIdentifier($0)] }
    results = graph.outputs.map { operand($0) }
  }

  /// The fused steps' member node indices by the index of their last node: the Conv chains of
  /// `nodes` when the plan fuses or caches (`fusesEpilogues`, `cachesPackedWeights`; single-Conv
  /// chains when it only caches) and, when it fuses, the fake-quant pairs outside them.
  private static func fusedGroups(
    nodes: [Node], readers: ValueReaders, version: Int, runsKernel: (Int) -> Bool, isFixedScalar: (Value) -> Bool,
    isConstantNode: (Node) -> Bool
  ) -> [Int: [Int]] {
    let pairs =
      fusesEpilogues
      ? FakeQuantPair.find(
        nodes: nodes, readers: readers, version: version, runsKernel: runsKernel, isFixedScalar: isFixedScalar,
        isConstantNode: isConstantNode) : []
    var pairAt = [Int: FakeQuantPair](minimumCapacity: pairs.count)
    for pair in pairs { pairAt[pair.quantize] = pair }
    var chains = ConvEpilogueChain.find(
      nodes: nodes, readers: readers, version: version, runsKernel: runsKernel, fakeQuant: { pairAt[$0] })
    if !fusesEpilogues {
      chains = chains.map { ConvEpilogueChain(conv: $0.conv, normalization: nil, activation: nil, fakeQuant: nil) }
    }
    var groups = [Int: [Int]](minimumCapacity: chains.count + pairs.count)
    for chain in chains {
      groups[chain.last] = chain.nodes
      if let pair = chain.fakeQuant { pairAt[pair.quantize] = nil }
    }
    for pair in pairs where pairAt[pair.quantize] != nil { groups[pair.dequantize] = [pair.quantize, pair.dequantize] }
    return groups
  }
}
