import Foundation

/// Lowers an 8-bit elementwise op between DequantizeLinear and QuantizeLinear to a 256-entry
/// lookup table: `Gather(table, Cast<to=int32>(x_q))`.
///
/// Maths: `table[v mod 256] = Q(op(DQ(v)))` for every representable `v`, computed by the
/// executor's own DequantizeLinear, op and QuantizeLinear kernels, so the table equals the
/// fake-quant graph exactly, by construction (DESIGN.md section 4). int8 inputs index with
/// negative numbers, which Gather counts from the end: entry `v mod 256`.
/// ```
/// before: x_dq = DequantizeLinear(x_q, sx, zx)  s = Sigmoid(x_dq)  y_q = QuantizeLinear(s, sy, zy)
/// after:  i = Cast<to=6>(x_q)   y_q = Gather<axis=0>(table, i)       # table: uint8[256]
/// ```
/// Skip cases: 1. the input is not behind a DequantizeLinear; 2. input or output not 8-bit per
/// tensor; 3. the executor cannot evaluate the op (it must be a pure elementwise function of x).
struct LowerUnaryToLookupTable: RewriteRule {
  let name = "elementwise -> 256-entry lookup"
  static let ops: Set<String> = [
    "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "LeakyRelu", "Gelu", "Erf", "Exp", "Log", "Softplus", "Softsign",
    "Elu", "Selu", "Celu", "Sqrt", "Reciprocal", "Neg", "Abs", "Relu", "Clip", "Mish", "ThresholdedRelu", "Sin", "Cos",
    "Floor", "Ceil", "Round", "Sign",
  ]

  func match(_ node: Node, in graph: Graph, model: Model) -> RuleMatch {
    guard let found = QuantizedResult.match(node, model: model, ops: Self.ops) else { return .noMatch }
    guard case .success(var result) = found else { return refusal(found) }
    if let clamp = result.clamp {
      // An op followed by a clamp: the clamp alone is the op here (it is elementwise too).
      guard Self.ops.contains(clamp.opType) else { return .noMatch }
      result.op = clamp
      result.clamp = nil
      if clamp.input(0)?.producer?.opType != "DequantizeLinear" { return .noMatch }
    }
    let op = result.op
    // Only x may vary: every other input must be a constant.
    for extra in op.inputs.dropFirst().compactMap({ $0 }) where extra.constantTensor(in: model) == nil {
      return .refused("skip 3: \(op.label): input '\(extra.name)' is not a constant")
    }
    let x = QuantizedOperand.of(op.input(0), in: model, role: "input")
    guard case .success(let input) = x else { return refusal(x) }
    let output = result.parameters
    guard input.isEightBit, input.parameters.isPerTensor, output.isPerTensor,
      output.type == .int8 || output.type == .uint8
    else { return .refused("skip 2: \(op.label): input and output must be 8-bit per tensor") }
    let table: HostTensor
    do {
      table = try Self.table(op: op, input: input, output: result.quantize, model: model)
    } catch {
      return .refused("skip 3: \(op.label): \(error)")
    }
    return .rewrite { rewriter in
      rewriter.subjectLabel = op.label
      let tableValue = try rewriter.addConstant(
        (op.name.isEmpty ? op.opType : op.name) + "_table", table.irTensor(name: nil))
      let cast = try rewriter.insertNode(
        "Cast", name: op.name.isEmpty ? "" : op.name + "_index", inputs: [input.integer],
        outputBases: [input.integer.name + "_index"], attributes: [.int("to", Int64(DataType.int32.rawValue))])
      let gather = try rewriter.insertNode(
        "Gather", name: op.name.isEmpty ? "" : op.name + "_lookup", inputs: [tableValue, cast.output],
        outputBases: [(result.quantize.output?.name ?? "y") + "_int"], attributes: [.int("axis", 0)])
      guard let loweredOutput = gather.output else { return }
      try result.replace(with: loweredOutput, removing: [op], operands: [input], rewriter: rewriter)
    }
  }

  /// `Q(op(DQ(v)))` for the 256 values v, stored at `v mod 256`, through the executor.
  static func table(op: Node, input: QuantizedOperand, output: Node, model: Model) throws -> HostTensor {
    let values: [Int32] = (0..<256).map { index in
      input.parameters.type == .int8 && index >= 128 ? Int32(index - 256) : Int32(index)
    }
    // An interpreter over an empty graph with the model's opsets: evaluating single nodes needs
    // nothing else (and decoding the model's initializers would cost for nothing).
    let interpreter = try Interpreter(
      model: Model(graph: Graph(), opsetImports: model.opsetImports), checkingKernels: false)
    func constant(_ value: Value?) throws -> HostTensor? {
      guard let value else { return nil }
      guard let host = value.constantHostTensor(in: model) else {
        throw LoweringRefusal("'\(value.name)' is not a constant")
      }
      return host
    }
    let integers = QuantizedValues.tensor(values, type: input.parameters.type, shape: [256])
    let dequantized = try interpreter.evaluate(
      input.dequantize, inputs: [integers] + (try input.dequantize.inputs.dropFirst().map(constant)))
    guard let floats = dequantized.first ?? nil else { throw LoweringRefusal("DequantizeLinear gave no output") }
    let computed = try interpreter.evaluate(op, inputs: [floats] + (try op.inputs.dropFirst().map(constant)))
    guard let result = computed.first ?? nil, result.count == 256 else {
      throw LoweringRefusal("the op is not elementwise")
    }
    let quantized = try interpreter.evaluate(output, inputs: [result] + (try output.inputs.dropFirst().map(constant)))
    guard let table = quantized.first ?? nil, table.count == 256 else { throw LoweringRefusal("QuantizeLinear failed") }
    return table
  }
}
