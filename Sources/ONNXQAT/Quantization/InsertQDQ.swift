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
struct InsertQDQ {
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

  func run() throws {
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
          try graph.addInitializer(named: graph.uniqueName(root + "_scale"), parameters.scaleTensor(name: nil)),
          try graph.addInitializer(named: graph.uniqueName(root + "_zero_point"), parameters.zeroPointTensor(name: nil))
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
  }

  private func axisAttributes(_ parameters: QuantParameters) -> [Attribute] {
    var attributes: [Attribute] = []
    if let axis = parameters.axis, !parameters.isPerTensor { attributes.append(.int("axis", Int64(axis))) }
    if let blockSize = parameters.blockSize { attributes.append(.int("block_size", Int64(blockSize))) }
    return attributes
  }

  private func makeNode(_ opType: String, _ base: String, inputs: [Value?], output: String, _ attributes: [Attribute])
    -> Node
  {
    Node(
      opType: opType, name: graph.uniqueNodeName(base + "_" + opType), inputs: inputs,
      outputNames: [graph.uniqueName(output)], attributes: attributes)
  }


  /// Q -> DQ after the tensor's producer (or first in the graph for a graph input).
  private func quantizeActivation(
    _ value: Value, _ parameters: QuantParameters, _ constants: (scale: Value, zeroPoint: Value)
  ) throws {
    let users = value.uses.compactMap(\.node)
    let attributes = axisAttributes(parameters)
    let quantize = makeNode(
      "QuantizeLinear", value.name, inputs: [value, constants.scale, constants.zeroPoint],
      output: value.name + "_quantized", attributes)
    guard let quantized = quantize.output else { return }
    let dequantize = makeNode(
      "DequantizeLinear", value.name, inputs: [quantized, constants.scale, constants.zeroPoint],
      output: value.name + "_dequantized", attributes)
    guard let dequantized = dequantize.output else { return }
    if let producer = value.producer {
      try graph.insert(quantize, after: producer)
    } else if let first = graph.nodes.first {
      try graph.insert(quantize, before: first)
    } else {
      try graph.append(quantize)
    }
    try graph.insert(dequantize, after: quantize)
    try redirect(users, from: value, to: dequantized)
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

  /// A weight or constant operand: Q -> DQ of the float initializer, or DQ of an integer one.
  private func quantizeConstant(
    _ value: Value, _ parameters: QuantParameters, _ constants: (scale: Value, zeroPoint: Value)
  ) throws {
    let users = value.uses.compactMap(\.node)
    guard let anchor = graph.nodes.first(where: { node in users.contains { $0 === node } }) else { return }
    let attributes = axisAttributes(parameters)
    let source: Value
    if form == .qdq {
      let quantize = makeNode(
        "QuantizeLinear", value.name, inputs: [value, constants.scale, constants.zeroPoint],
        output: value.name + "_quantized", attributes)
      try graph.insert(quantize, before: anchor)
      guard let output = quantize.output else { return }
      source = output
    } else {
      guard let tensor = value.constantTensor(in: model) else { return }
      let floats = try HostTensor(tensor)
      let integers = WeightQuantization.quantize(
        floats.values(Float.self), shape: floats.shape, parameters)
      source = try graph.addInitializer(named: graph.uniqueName(value.name + "_quantized"), integers.irTensor(name: nil))
    }
    let dequantize = makeNode(
      "DequantizeLinear", value.name, inputs: [source, constants.scale, constants.zeroPoint],
      output: value.name + "_dequantized", attributes)
    try graph.insert(dequantize, before: anchor)
    guard let dequantized = dequantize.output else { return }
    try redirect(users, from: value, to: dequantized)
    if form == .dq, value.uses.isEmpty, !graph.outputs.contains(where: { $0 === value }),
      !graph.inputs.contains(where: { $0 === value })
    {
      try graph.removeInitializer(value)
    }
  }

  /// The int32 bias behind DequantizeLinear, for the node it belongs to.
  private func quantizeBias(_ bias: BiasResult) throws {
    let base = bias.bias.name
    let perChannel = bias.scales.count > 1
    let scale = try graph.addInitializer(
      named: graph.uniqueName(base + "_scale"),
      HostTensor(.float, shape: perChannel ? [bias.scales.count] : [], values: bias.scales).irTensor(name: nil))
    let zeroPoint = try graph.addInitializer(
      named: graph.uniqueName(base + "_zero_point"),
      HostTensor(
        .int32, shape: perChannel ? [bias.scales.count] : [],
        values: [Int32](repeating: 0, count: bias.scales.count)
      ).irTensor(name: nil))
    let quantized = try graph.addInitializer(
      named: graph.uniqueName(base + "_quantized"), bias.quantized.irTensor(name: nil))
    let dequantize = makeNode(
      "DequantizeLinear", base, inputs: [quantized, scale, zeroPoint], output: base + "_dequantized",
      perChannel ? [.int("axis", 0)] : [])
    try graph.insert(dequantize, before: bias.node)
    guard let output = dequantize.output else { return }
    for (index, input) in bias.node.inputs.enumerated() where input === bias.bias {
      try bias.node.replaceInput(at: index, with: output)
    }
    if bias.bias.uses.isEmpty, !graph.outputs.contains(where: { $0 === bias.bias }),
      !graph.inputs.contains(where: { $0 === bias.bias }), bias.bias.initializer != nil
    {
      try graph.removeInitializer(bias.bias)
    }
  }
}
