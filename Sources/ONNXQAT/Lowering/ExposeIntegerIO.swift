import Foundation

/// `lower --int-io`: the graph's inputs and outputs become the integer tensors behind their
/// QuantizeLinear / DequantizeLinear, and each one's scale, zero point and type go into the
/// model's metadata (`onnx-qat.io.NAME` = `{"type": "uint8", "scale": 0.02, "zero_point": 128}`),
/// so that an integer-only runtime feeds and reads integers directly.
/// ```
/// before: g (float[1,3] x) => (float[1,2] y) { xq = QuantizeLinear(x, s, z) ... y = DequantizeLinear(yq, t, u) }
/// after:  g (uint8[1,3] x) => (uint8[1,2] y) { ... y = QLinearMatMul(x, ...) }
/// ```
/// Skip cases (the tensor stays float, noted in the report): 1. an input used by anything other
/// than QuantizeLinears with one set of per-tensor constant parameters; 2. an output not produced
/// by a per-tensor DequantizeLinear with constant parameters.
enum ExposeIntegerIO {
  static func run(_ model: Model, log: RewriteLog) throws {
    let graph = model.graph
    for (position, input) in graph.inputs.enumerated() where input.initializer == nil {
      let users = input.uses.compactMap(\.node)
      guard !users.isEmpty, users.allSatisfy({ $0.opType == "QuantizeLinear" && $0.input(0) === input }),
        case .success(let parameters) = QDQParameters.read(users[0], model: model), parameters.isPerTensor,
        users.allSatisfy({ (try? QDQParameters.read($0, model: model).get()) == parameters })
      else {
        log.note("int-io", "input '\(input.name)' stays float (skip 1: not only quantized per tensor)")
        continue
      }
      let name = input.name
      try graph.rename(input, to: graph.uniqueName(name + "_float"))
      let shape = input.type?.tensorType?.shape?.dims
      let integer = Value(name: name, type: .tensor(parameters.type, shape))
      graph.inputs[position] = integer
      for user in users {
        guard let quantized = user.output else { continue }
        try graph.replaceAllUses(of: quantized, with: integer, replacingGraphOutputs: true)
      }
      try graph.remove(users)
      record(model, name, parameters)
    }
    for (slot, output) in graph.outputs.enumerated() {
      guard let dequantize = output.producer, dequantize.opType == "DequantizeLinear",
        case .success(let parameters) = QDQParameters.read(dequantize, model: model), parameters.isPerTensor,
        let integer = dequantize.input(0), output.uses.isEmpty, !graph.inputs.contains(where: { $0 === integer })
      else {
        log.note(
          "int-io", "output '\(output.name)' stays float (skip 2: not produced by a per-tensor DequantizeLinear)")
        continue
      }
      let name = output.name
      try graph.rename(output, to: graph.uniqueName(name + "_float"))
      graph.outputs[slot] = integer
      if integer.type == nil { integer.type = .tensor(parameters.type, output.type?.tensorType?.shape?.dims) }
      try graph.rename(integer, to: name)
      if output.uses.isEmpty { try graph.remove(dequantize) }
      record(model, name, parameters)
    }
  }

  private static func record(_ model: Model, _ name: String, _ parameters: QDQParameters) {
    let key = "onnx-qat.io.\(name)"
    let value =
      "{\"type\": \"\(parameters.type.name)\", \"scale\": \(parameters.scales[0]), \"zero_point\": \(parameters.zeroPoints[0])}"
    model.metadataProps.removeAll { $0.key == key }
    model.metadataProps.append(StringPair(key: key, value: value))
  }
}
