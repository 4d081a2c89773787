import Foundation

/// `onnx-qat verify` as a library call: runs the fake-quant graph and the integer graph (and the
/// float model, when given) through the reference executor on the same samples and says where
/// and by how much they differ.
///
/// Per output: elements that differ and by how many LSB (the output's DequantizeLinear scale,
/// or integer units for integer outputs); against the float model, SNR, cosine and max error of
/// both graphs; top-1 agreement for outputs shaped like class scores ([N, C], C > 1). Every
/// integer tensor that both graphs name alike (lowering keeps the QuantizeLinear outputs'
/// names) is compared too, in the integer graph's node order, to find the first departure.
/// An integer graph written by `lower --int-io` (integer inputs and outputs, their parameters in
/// the metadata) gets the float samples quantized and its outputs dequantized through that
/// metadata (IntegerIOParameters).
public enum Verifier {
  public static func verify(
    qdq: Model, integer: Model, float: Model?, samples source: CalibrationSource,
    options: ExecutionOptions = ExecutionOptions(), maxSamples: Int? = nil
  ) throws -> VerifyReport {
    var source = source
    let qdqRun = try Interpreter(model: qdq, options: options)
    let intRun = try Interpreter(model: integer, options: options)
    let floatRun = try float.map { try Interpreter(model: $0, options: options) }
    let outputNames = qdq.graph.outputs.map(\.name)
    for name in outputNames where !integer.graph.outputs.contains(where: { $0.name == name }) {
      throw ONNXQATError.badArgument("output '\(name)' of the fake-quant model is not an output of the integer model")
    }
    let io = try IntegerIOParameters(integer)
    var outputs = outputNames.map { name in
      VerifyReport.Output(name: name, lsb: lsbScale(of: name, in: integer) ?? io.tensors[name]?.scale)
    }
    var tensors: [String: VerifyReport.Tensor] = [:]
    var order: [String: Int] = [:]
    for (index, node) in integer.graph.nodes.enumerated() {
      for output in node.outputs.compactMap({ $0 }) {
        order[output.name] = index
      }
    }
    var qdqIntegers: [String: HostTensor] = [:]
    qdqRun.observer = { value, tensor in
      if !tensor.dataType.isFloatingPoint, order[value.name] != nil { qdqIntegers[value.name] = tensor }
    }
    var pending: [String: HostTensor] = [:]
    intRun.observer = { value, tensor in
      if !tensor.dataType.isFloatingPoint { pending[value.name] = tensor }
    }
    var count = 0
    while let sample = try source.nextSample() {
      if let maxSamples, count >= maxSamples { break }
      count += 1
      qdqIntegers = [:]
      pending = [:]
      let expected = try qdqRun.run(sample)
      let actual = io.dequantize(try intRun.run(try io.quantize(sample)))
      let reference = try floatRun?.run(sample)
      for index in outputs.indices {
        let name = outputs[index].name
        guard let want = expected[name], let got = actual[name] else { continue }
        outputs[index].add(qdq: want, integer: got, float: reference?[name])
      }
      for (name, want) in qdqIntegers {
        guard let got = pending[name], got.shape == want.shape else { continue }
        tensors[name, default: VerifyReport.Tensor(name: name, node: producerLabel(name, integer))].add(want, got)
      }
    }
    guard count > 0 else { throw ONNXQATError.badArgument("verify read no samples") }
    let compared = tensors.values.sorted { (order[$0.name] ?? 0) < (order[$1.name] ?? 0) }
    return VerifyReport(
      samples: count, outputs: outputs, tensorsCompared: compared.count,
      firstDeparture: compared.first { $0.differing > 0 })
  }

  /// The scale of the DequantizeLinear that produces graph output `name`, if any.
  static func lsbScale(of name: String, in model: Model) -> Float? {
    guard let output = model.graph.outputs.first(where: { $0.name == name }), let producer = output.producer,
      producer.opType == "DequantizeLinear", let scale = producer.input(1)?.constantFloats(in: model)?.values,
      scale.count == 1
    else { return nil }
    return scale[0]
  }

  static func producerLabel(_ name: String, _ model: Model) -> String {
    guard let node = model.graph.value(named: name)?.producer else { return name }
    return node.label
  }
}

/// What `verify` found (Schemas/verify.schema.json).
public struct VerifyReport: JSONReport, Codable, Equatable {
  /// One graph output compared across the graphs.
  public struct Output: Codable, Equatable {
    public var name: String
    /// The output's LSB (its DequantizeLinear scale); nil for integer outputs (LSB = 1).
    public var lsb: Float?
    public var elements = 0
    /// Elements where the integer graph differs from the fake-quant graph.
    public var differing = 0
    /// Largest difference, in LSB.
    public var maxLSB = 0.0
    /// Counts of elements by difference in LSB: [0, 1, 2 or more].
    public var histogram = [0, 0, 0]
    public var fakeQuantVsFloat: ErrorMetrics?
    public var integerVsFloat: ErrorMetrics?
    /// Top-1 agreement (fraction of rows) for [N, C] outputs with C > 1.
    public var top1IntegerVsFakeQuant: Double?
    public var top1IntegerVsFloat: Double?
    private var rows = 0
    private var agreeQDQ = 0
    private var agreeFloat = 0

    init(name: String, lsb: Float?) {
      self.name = name
      self.lsb = lsb
    }

    mutating func add(qdq: HostTensor, integer: HostTensor, float: HostTensor?) {
      let unit = Double(lsb ?? 1)
      let count = min(qdq.count, integer.count)
      elements += count
      for index in 0..<count {
        let difference = abs(qdq.element(at: index) - integer.element(at: index)) / unit
        let steps = Int(difference.rounded())
        if steps > 0 { differing += 1 }
        histogram[min(steps, 2)] += 1
        maxLSB = max(maxLSB, difference)
      }
      if let float {
        var a = fakeQuantVsFloat ?? ErrorMetrics(output: name)
        a.add(reference: float, actual: qdq)
        fakeQuantVsFloat = a
        var b = integerVsFloat ?? ErrorMetrics(output: name)
        b.add(reference: float, actual: integer)
        integerVsFloat = b
      }
      guard qdq.rank == 2, qdq.shape[1] > 1, integer.shape == qdq.shape else { return }
      let classes = qdq.shape[1]
      func argmax(_ tensor: HostTensor, _ row: Int) -> Int {
        var best = 0
        for c in 1..<classes where tensor.element(at: row * classes + c) > tensor.element(at: row * classes + best) {
          best = c
        }
        return best
      }
      for row in 0..<qdq.shape[0] {
        rows += 1
        let chosen = argmax(integer, row)
        if chosen == argmax(qdq, row) { agreeQDQ += 1 }
        if let float, float.shape == qdq.shape, chosen == argmax(float, row) { agreeFloat += 1 }
      }
      top1IntegerVsFakeQuant = Double(agreeQDQ) / Double(rows)
      if float != nil { top1IntegerVsFloat = Double(agreeFloat) / Double(rows) }
    }

    enum CodingKeys: String, CodingKey {
      case name, lsb, elements, differing, maxLSB, histogram, fakeQuantVsFloat, integerVsFloat
      case top1IntegerVsFakeQuant, top1IntegerVsFloat
    }
  }

  /// An integer tensor present in both graphs under one name.
  public struct Tensor: Codable, Equatable {
    public var name: String
    public var node: String
    public var elements = 0
    public var differing = 0
    public var maxDifference: Int32 = 0

    mutating func add(_ qdq: HostTensor, _ integer: HostTensor) {
      guard let a = QuantizedValues.int32s(qdq), let b = QuantizedValues.int32s(integer) else { return }
      elements += a.count
      for (x, y) in zip(a, b) where x != y {
        differing += 1
        maxDifference = max(maxDifference, abs(x - y))
      }
    }
  }

  public var verb = "verify"
  public var samples: Int
  public var outputs: [Output]
  /// Integer tensors compared by name.
  public var tensorsCompared: Int
  /// The first integer tensor, in the integer graph's order, where the graphs differ.
  public var firstDeparture: Tensor?

}
