import Foundation

/// An input of a float op that comes out of a DequantizeLinear: the integer value behind it and
/// its parameters. Lowering rules read their operands through this.
public struct QuantizedOperand {
  public var dequantize: Node
  public var integer: Value
  public var parameters: QDQParameters

  /// The operand behind `value`, or the reason there is none.
  public static func of(_ value: Value?, in model: Model, role: String) -> Result<QuantizedOperand, LoweringRefusal> {
    guard let value else { return .failure(.init("\(role) is missing")) }
    guard let producer = value.producer, producer.opType == "DequantizeLinear", producer.isStandard,
      let integer = producer.input(0)
    else { return .failure(.init("\(role) '\(value.name)' does not come from a DequantizeLinear")) }
    switch QDQParameters.read(producer, model: model) {
    case .failure(let refusal): return .failure(refusal)
    case .success(var parameters):
      if parameters.type == .undefined, let type = integer.type?.tensorType?.elementType { parameters.type = type }
      return .success(QuantizedOperand(dequantize: producer, integer: integer, parameters: parameters))
    }
  }

  /// Whether the integer type is 8-bit.
  public var isEightBit: Bool { parameters.type == .int8 || parameters.type == .uint8 }
}

/// The QuantizeLinear that a lowering rule anchors at and the op chain above it: an optional
/// clamp (Relu, or Clip with constant bounds) between the op and the Q.
public struct QuantizedResult {
  public var quantize: Node
  public var parameters: QDQParameters
  public var op: Node
  public var clamp: Node?

  /// Reads the chain ending at `quantize`; nil when the pattern does not apply.
  public static func match(_ quantize: Node, model: Model, ops: Set<String>) -> Result<
    QuantizedResult, LoweringRefusal
  >? {
    guard quantize.opType == "QuantizeLinear", quantize.isStandard, let input = quantize.input(0),
      var producer = input.producer, producer.isStandard
    else { return nil }
    var clamp: Node?
    if producer.opType == "Relu" || producer.opType == "Clip", let inner = producer.input(0)?.producer,
      ops.contains(inner.opType), inner.isStandard, producer.input(0)?.soleUser === producer
    {
      clamp = producer
      producer = inner
    }
    guard ops.contains(producer.opType) else { return nil }
    switch QDQParameters.read(quantize, model: model) {
    case .failure(let refusal): return .failure(refusal)
    case .success(let parameters):
      return .success(QuantizedResult(quantize: quantize, parameters: parameters, op: producer, clamp: clamp))
    }
  }
}

extension QuantizedResult {
  /// Completes a lowering: the integer value `final` takes the place of the QuantizeLinear's
  /// output, under the same name (so that the integer graph's tensors can be compared with the
  /// fake-quant graph's by name), and the float nodes and DequantizeLinears left without users
  /// are removed.
  func replace(with final: Value, removing nodes: [Node], operands: [QuantizedOperand], rewriter: Rewriter) throws {
    guard let quantized = quantize.output else { return }
    let name = quantized.name
    let isGraphOutput = rewriter.graph.outputs.contains { $0 === quantized }
    try rewriter.replaceAllUses(of: quantized, with: final)
    try rewriter.removeIfUnused([quantize] + [clamp].compactMap { $0 } + nodes)
    try rewriter.removeIfUnused(operands.map(\.dequantize))
    if !isGraphOutput, quantize.graph == nil { try rewriter.graph.rename(final, to: name) }
  }
}
