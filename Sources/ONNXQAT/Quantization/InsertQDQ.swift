import Foundation

/// Writes the QuantizeLinear/DequantizeLinear pairs of a plan into the main graph.
///
/// Activation (one Q -> DQ per tensor, shared by every consumer; a graph output keeps its name,
/// which moves to the DequantizeLinear output):
/// ```
/// before:  y = Conv(x, w, b)           z = Relu(y)
/// after:   x_q = QuantizeLinear(x, x_scale, x_zero_point)
///          x_dq = DequantizeLinear(x_q, x_scale, x_zero_point)
///          y = Conv(x_dq, w_dq, b_dq) ...
/// ```
/// Weight, `--weights-form qdq` (float initializer behind Q -> DQ, what QAT trains):
/// `w_q = QuantizeLinear<axis=0>(w, w_scale, w_zero_point)`, `w_dq = DequantizeLinear<axis=0>(w_q, ...)`.
/// Weight, `--weights-form dq` (integer initializer): `w_dq = DequantizeLinear<axis=0>(w_quantized, ...)`.
/// Bias in the `dq` form: `b_dq = DequantizeLinear<axis=0>(b_quantized, b_scale = s_x * s_w, 0)` with
/// int32 `b_quantized`; in the `qdq` form the bias stays float (it is trained; `lower` quantizes it).
final class InsertQDQ {
  let model: Model
  let plan: QuantizationPlan
  let parameters: [String: QuantParameters]
  let biases: [BiasResult]
  let form: QuantizationOptions.WeightsForm

  /// The int32 form of one bias.
  struct BiasResult {
    let node: Node
    let bias: Value
    let quantized: HostTensor
    let scales: [Float]
  }

  private var graph: Graph { model.graph }
  /// New nodes and where they go: inserted together at the end, in one pass over the graph.
  private var placements: [Graph.Placement] = []
  /// Edits that need the new nodes in the graph first (uses moved to DequantizeLinear outputs).
  private var redirects: [Redirect] = []

  /// One such edit (plain values rather than closures: one allocation less per tensor).
  private enum Redirect {
    /// `users` read `dequantized` instead of the activation `value`.
    case activation(users: [Node], value: Value, dequantized: Value)
    /// The same for a constant, whose initializer goes when nothing uses it any more (dq form).
    case constant(users: [Node], value: Value, dequantized: Value)
    /// The bias input of the bias's node reads `dequantized`; the float bias goes when unused.
    case bias(BiasResult, dequantized: Value)
  }
  /// Names given to new values and nodes that are not in the graph yet.
  private var reservedNames = Set<String>()
  private var reservedNodeNames = Set<String>()
  /// Positions of the original nodes, to find a constant's first user.
  private var position: [ObjectIdentifier: Int] = [:]

  init(
    model: Model, plan: QuantizationPlan, parameters: [String: QuantParameters], biases: [BiasResult],
    form: QuantizationOptions.WeightsForm
  ) {
    self.model = model
    self.plan = plan
    self.parameters = parameters
    self.biases = biases
    self.form = form
  }

  func run() throws {
    let nodes = graph.nodes
    position.reserveCapacity(nodes.count)
    for (index, node) in nodes.enumerated() { position[ObjectIdentifier(node)] = index }
    // At most two new nodes per tensor and one per bias; two initializers per parameter root
    // and three per bias (plus an integer weight each in the dq form).
    let newNodes = 2 * plan.tensors.count + biases.count
    let newInitializers = 3 * plan.tensors.count + 3 * biases.count
    graph.reserveCapacity(nodes: newNodes, initializers: newInitializers)
    reservedNames.reserveCapacity(newNodes + newInitializers)
    reservedNodeNames.reserveCapacity(newNodes)
    placements.reserveCapacity(newNodes)
    redirects.reserveCapacity(plan.tensors.count + biases.count)
    var parameterValues: [String: (scale: Value, zeroPoint: Value)] = [:]
    for (name, role) in plan.tensors {
      guard let value = graph.value(named: name) else { continue }
      let root = plan.parameterRoot(of: name)
      guard let parameters = parameters[root] else { continue }
      let constants: (scale: Value, zeroPoint: Value)
      if let existing = parameterValues[root] {
        constants = existing
      } else {
        constants = (
          try graph.addInitializer(named: reserve(root + "_scale"), parameters.scaleTensor(name: nil)),
          try graph.addInitializer(named: reserve(root + "_zero_point"), parameters.zeroPointTensor(name: nil))
        )
        parameterValues[root] = constants
      }
      switch role {
      case .weight, .constant:
        try quantizeConstant(value, parameters, constants)
      case .activation, .shared, .fixed:
        try quantizeActivation(value, parameters, constants)
      }
    }
    for bias in biases { try quantizeBias(bias) }
    try graph.insert(placements)
    for redirect in redirects { try perform(redirect) }
  }

  private func perform(_ redirect: Redirect) throws {
    switch redirect {
    case .activation(let users, let value, let dequantized):
      try self.redirect(users, from: value, to: dequantized)
    case .constant(let users, let value, let dequantized):
      try self.redirect(users, from: value, to: dequantized)
      if form == .dq, value.uses.isEmpty, !graph.outputs.contains(where: { $0 === value }),
        !graph.inputs.contains(where: { $0 === value })
      {
        try graph.removeInitializer(value)
      }
    case .bias(let bias, let output):
      for (index, input) in bias.node.inputs.enumerated() where input === bias.bias {
        try bias.node.replaceInput(at: index, with: output)
      }
      if bias.bias.uses.isEmpty, !graph.outputs.contains(where: { $0 === bias.bias }),
        !graph.inputs.contains(where: { $0 === bias.bias }), bias.bias.hasInitializer
      {
        try graph.removeInitializer(bias.bias)
      }
    }
  }

  private func axisAttributes(_ parameters: QuantParameters) -> [Attribute] {
    var attributes: [Attribute] = []
    if let axis = parameters.axis, !parameters.isPerTensor { attributes.append(.int("axis", Int64(axis))) }
    if let blockSize = parameters.blockSize { attributes.append(.int("block_size", Int64(blockSize))) }
    return attributes
  }

  /// A fresh name from `base`: unused in the graph and among the names this run gave out.
  private func reserve(_ base: String, nodeName: Bool = false) -> String {
    var candidate = base
    var counter = 1
    while true {
      // Free in the graph, then reserved here if no earlier call took it (one insertion).
      if nodeName {
        if !graph.hasNodeNamed(candidate), reservedNodeNames.insert(candidate).inserted { return candidate }
      } else if !graph.isDefined(candidate), reservedNames.insert(candidate).inserted {
        return candidate
      }
      candidate = "\(base)_\(counter)"
      counter += 1
    }
  }

  private func makeNode(_ opType: String, _ base: String, inputs: [Value?], output: String, _ attributes: [Attribute])
    -> Node
  {
    Node(
      opType: opType, name: reserve(base + "_" + opType, nodeName: true), inputs: inputs,
      outputNames: [reserve(output)], attributes: attributes)
  }

  /// Q -> DQ after the tensor's producer (or first in the graph for a graph input).
  private func quantizeActivation(
    _ value: Value, _ parameters: QuantParameters, _ constants: (scale: Value, zeroPoint: Value)
  ) throws {
    let users = Array(value.users)
    let attributes = axisAttributes(parameters)
    let quantize = makeNode(
      "QuantizeLinear", value.name, inputs: [value, constants.scale, constants.zeroPoint],
      output: value.name + "_quantized", attributes)
    guard let quantized = quantize.output else { return }
    let dequantize = makeNode(
      "DequantizeLinear", value.name, inputs: [quantized, constants.scale, constants.zeroPoint],
      output: value.name + "_dequantized", attributes)
    guard let dequantized = dequantize.output else { return }
    let anchor = value.producer
    placements.append(Graph.Placement(quantize, anchor: anchor, after: true))
    placements.append(Graph.Placement(dequantize, anchor: anchor, after: true))
    redirects.append(.activation(users: users, value: value, dequantized: dequantized))
  }

  /// Every use of `value` by `users` now reads `replacement`; a graph output keeps its name.
  private func redirect(_ users: [Node], from value: Value, to replacement: Value) throws {
    for user in users {
      for (index, input) in user.inputs.enumerated() where input === value {
        try user.replaceInput(at: index, with: replacement)
      }
    }
    let outputSlots = graph.outputs.indices.filter { graph.outputs[$0] === value }
    guard !outputSlots.isEmpty else { return }
    let name = value.name
    replacement.type = value.type
    try graph.rename(value, to: graph.uniqueName(name + "_float"))
    try graph.rename(replacement, to: name)
    for slot in outputSlots { graph.outputs[slot] = replacement }
  }

  /// The first node, in graph order, among `users`.
  private func firstUser(_ users: [Node]) -> Node? {
    users.min { (position[ObjectIdentifier($0)] ?? Int.max) < (position[ObjectIdentifier($1)] ?? Int.max) }
  }

  /// A weight or constant operand: Q -> DQ of the float initializer, or DQ of an integer one.
  private func quantizeConstant(
    _ value: Value, _ parameters: QuantParameters, _ constants: (scale: Value, zeroPoint: Value)
  ) throws {
    let users = Array(value.users)
    guard let anchor = firstUser(users) else { return }
    let attributes = axisAttributes(parameters)
    let source: Value
    if form == .qdq {
      let quantize = makeNode(
        "QuantizeLinear", value.name, inputs: [value, constants.scale, constants.zeroPoint],
        output: value.name + "_quantized", attributes)
      placements.append(Graph.Placement(quantize, anchor: anchor, after: false))
      guard let output = quantize.output else { return }
      source = output
    } else {
      guard let tensor = value.constantTensor(in: model) else { return }
      let floats = try HostTensor(tensor)
      let integers = WeightQuantization.quantize(floats.values(Float.self), shape: floats.shape, parameters)
      source = try graph.addInitializer(named: reserve(value.name + "_quantized"), integers.irTensor(name: nil))
    }
    let dequantize = makeNode(
      "DequantizeLinear", value.name, inputs: [source, constants.scale, constants.zeroPoint],
      output: value.name + "_dequantized", attributes)
    placements.append(Graph.Placement(dequantize, anchor: anchor, after: false))
    guard let dequantized = dequantize.output else { return }
    redirects.append(.constant(users: users, value: value, dequantized: dequantized))
  }

  /// The int32 bias behind DequantizeLinear, for the node it belongs to.
  private func quantizeBias(_ bias: BiasResult) throws {
    let base = bias.bias.name
    let perChannel = bias.scales.count > 1
    let scale = try graph.addInitializer(
      named: reserve(base + "_scale"),
      HostTensor(.float, shape: perChannel ? [bias.scales.count] : [], values: bias.scales).irTensor(name: nil))
    let zeroPoint = try graph.addInitializer(
      named: reserve(base + "_zero_point"),
      HostTensor(
        .int32, shape: perChannel ? [bias.scales.count] : [],
        values: [Int32](repeating: 0, count: bias.scales.count)
      ).irTensor(name: nil))
    let quantized = try graph.addInitializer(
      named: reserve(base + "_quantized"), bias.quantized.irTensor(name: nil))
    let dequantize = makeNode(
      "DequantizeLinear", base, inputs: [quantized, scale, zeroPoint], output: base + "_dequantized",
      perChannel ? [.int("axis", 0)] : [])
    placements.append(Graph.Placement(dequantize, anchor: bias.node, after: false))
    guard let output = dequantize.output else { return }
    redirects.append(.bias(bias, dequantized: output))
  }
}
