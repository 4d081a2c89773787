import Foundation

/// `onnx-qat insert` as a library call: fold, raise the opset when the schemes need it, plan,
/// calibrate, compute parameters, write the Q/DQ pairs, and measure the float-vs-fake-quant
/// error on the calibration samples.
public enum QDQInsertion {
  /// Makes a fresh calibration source each time it is called (calibration reads the samples
  /// once, the error measurement once more; the float outputs of the calibration runs are kept
  /// in a `ReferenceOutputSpool`, so the float model runs once per sample).
  public typealias SourceFactory = () throws -> CalibrationSource

  /// Turns `model` (edited in place) into its fake-quant form and reports what it did. On error
  /// the model may be half edited: callers discard it (the CLI writes nothing).
  public static func insert(
    _ model: Model, options: QuantizationOptions, calibration: SourceFactory, synthetic: Bool = false,
    log: RewriteLog = RewriteLog(), progress: ((CalibrationProgress) -> Void)? = nil
  ) throws -> InsertReport {
    let quantizeOps: Set<String> = ["QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul"]
    let existing = model.graph.allNodes.filter { quantizeOps.contains($0.opType) }
    if let first = existing.first {
      throw ONNXQATError.badArgument(
        "the model is already quantized: \(existing.count) node\(existing.count == 1 ? "" : "s") such as \(first.label);"
          + " insert takes a float model (lower takes a fake-quant one)")
    }
    let start = Date()
    var seconds = InsertReport.Seconds()
    let nodesBefore = model.graph.nodes.count
    _ = try Folding.fold(model, log: log)
    let opsetBefore = model.opsetVersion("") ?? 1
    if opsetBefore < options.requiredOpset {
      _ = try UpgradeOpset(target: options.requiredOpset).run(model, log: log)
    }
    _ = try RaiseIRVersion().run(model, log: log)
    seconds.fold = Date().timeIntervalSince(start)

    let calibrationStart = Date()
    let probe = try Interpreter(model: model, options: options.calibration.executionOptions)
    let types = try probeTypes(probe, calibration: calibration)
    let plan = QuantizationPlan(model: model, options: options, types: types)
    guard !plan.tensors.isEmpty else {
      let reasons = plan.floatNodes.prefix(5).map { "\($0.node.label): \($0.reason)" }.joined(separator: "; ")
      throw ONNXQATError.badArgument(
        "the model has no float tensor to quantize" + (reasons.isEmpty ? "" : " (\(reasons))"))
    }

    var source = try calibration()
    let calibrator = try Calibrator(
      model: model, tensors: plan.calibratedTensors, options: options.calibration, interpreter: probe)
    let reference = try ReferenceOutputSpool(outputNames: model.graph.outputs.map(\.name))
    let result = try calibrator.run(&source, progress: progress, outputs: reference.record)
    guard result.samples > 0 else { throw ONNXQATError.badArgument("calibration read no samples") }
    // The float model does not run again: its buffers go before the fake-quant runs make theirs.
    probe.releasePooledBuffers()
    seconds.calibration = Date().timeIntervalSince(calibrationStart)

    let insertionStart = Date()
    var warnings = plan.unmatchedExclusions.map { "--exclude \($0) matches no node name or op type" }
    var parameters = try computeParameters(plan, model: model, options: options, calibration: result)
    var adjustments: [InsertReport.BiasAdjustment] = []
    var biasResults: [InsertQDQ.BiasResult] = []
    for bias in plan.biases {
      guard let floats = bias.bias.constantFloats(in: model)?.values,
        let inputScale = parameters[plan.parameterRoot(of: bias.input)]?.scales.first,
        var weight = parameters[bias.weight]
      else { continue }
      let raised = BiasQuantization.fitWeightScales(bias: floats, inputScale: inputScale, weight: &weight)
      if !raised.isEmpty {
        parameters[bias.weight] = weight
        adjustments.append(.init(node: bias.node.label, bias: bias.bias.name, channels: raised))
      }
      let (quantized, scales) = BiasQuantization.quantize(bias: floats, inputScale: inputScale, weight: weight)
      biasResults.append(.init(node: bias.node, bias: bias.bias, quantized: quantized, scales: scales))
    }
    for (name, _) in parameters.filter(\.value.hadZeroRange).sorted(by: { $0.key < $1.key }) {
      warnings.append("tensor '\(name)' has a zero range (constant zero?): scale 1 used")
    }
    let tensorsReport = describe(plan, parameters: parameters, calibration: result)
    // Node labels name positions in the graph as the user gave it (after folding), so they are
    // taken before Q/DQ nodes shift the positions.
    let floatNodes = plan.floatNodes.map {
      InsertReport.FloatNode(node: $0.node.label, opType: $0.node.opType, reason: $0.reason)
    }
    let absorbed = plan.absorbed.map { InsertReport.Absorbed(clamp: $0.clamp.label, into: $0.producer.label) }
    try InsertQDQ(
      model: model, plan: plan, parameters: parameters, biases: options.weightsForm == .dq ? biasResults : [],
      form: options.weightsForm
    ).run()
    seconds.insertion = Date().timeIntervalSince(insertionStart)

    let evaluationStart = Date()
    let measured = foldingWeightsPays(model, samples: result.samples) ? try weightsFolded(model) : model
    let error = try measureError(reference: reference, quantized: measured, calibration: calibration, options: options)
    seconds.evaluation = Date().timeIntervalSince(evaluationStart)
    seconds.total = Date().timeIntervalSince(start)

    return InsertReport(
      preset: options.preset.rawValue, method: options.calibration.method.rawValue,
      weightsForm: options.weightsForm.rawValue, samples: result.samples, synthetic: synthetic,
      opset: .init(before: Int(opsetBefore), after: Int(model.opsetVersion("") ?? 1)),
      nodes: .init(before: nodesBefore, after: model.graph.nodes.count), rewrites: log.snapshot,
      tensors: tensorsReport,
      floatNodes: floatNodes, absorbed: absorbed,
      biasAdjustments: adjustments, warnings: warnings, error: error, seconds: seconds)
  }

  /// Element types of every value: from the graph alone when they are certain
  /// (`StaticElementTypes`), otherwise from one run of the first sample through `interpreter`
  /// (which calibration then reuses, with its plans and decoded constants). Either way the
  /// source must have a first sample.
  static func probeTypes(_ interpreter: Interpreter, calibration: SourceFactory) throws -> [String: DataType] {
    var source = try calibration()
    guard let sample = try source.nextSample() else {
      throw ONNXQATError.badArgument("the calibration source has no samples")
    }
    if let known = StaticElementTypes.infer(interpreter.model) { return known }
    var types: [String: DataType] = [:]
    types.reserveCapacity(interpreter.model.graph.inputs.count + interpreter.model.graph.nodeCount)
    interpreter.observer = { value, tensor in types[value.name] = tensor.dataType }
    defer { interpreter.observer = nil }
    _ = try interpreter.run(sample)
    return types
  }

  /// Scale and zero point of every planned tensor (shared tensors use their root's).
  static func computeParameters(
    _ plan: QuantizationPlan, model: Model, options: QuantizationOptions, calibration: CalibrationResult
  ) throws -> [String: QuantParameters] {
    var parameters: [String: QuantParameters] = [:]
    for (name, role) in plan.tensors {
      let value = model.graph.value(named: name)
      let override = value.flatMap { options.override(for: $0) }
      var type = override?.type ?? options.activationType
      let symmetric = override?.symmetric ?? options.activationSymmetric
      switch role {
      case .shared:
        continue
      case .activation:
        guard let range = calibration.range(of: name, type: type, symmetric: symmetric) else {
          throw ONNXQATError.badArgument("calibration saw no float values for tensor '\(name)'")
        }
        parameters[name] = QuantParameters.fromRange(min: range.min, max: range.max, type: type, symmetric: symmetric)
      case .fixed(let low, let high):
        parameters[name] = QuantParameters.fromRange(min: low, max: high, type: type, symmetric: symmetric)
      case .constant:
        guard let floats = value?.constantFloats(in: model) else { continue }
        parameters[name] = WeightQuantization.parameters(
          floats.values, shape: floats.shape, type: type, symmetric: symmetric, axis: nil, blockSize: nil)
      case .weight(let axis, let blockAxis):
        guard let floats = value?.constantFloats(in: model) else { continue }
        type = override?.type ?? options.weightType
        if options.reduceRange { type = QuantType.reduced(type) }
        let weightSymmetric = override?.symmetric ?? options.weightSymmetric
        let chosenAxis = override?.perChannelAxis.map { $0 < 0 ? nil : $0 } ?? axis
        parameters[name] = WeightQuantization.parameters(
          floats.values, shape: floats.shape, type: type, symmetric: weightSymmetric,
          axis: blockAxis ?? chosenAxis, blockSize: blockAxis == nil ? nil : options.blockSize)
      }
      if let scale = override?.scale, var fixed = parameters[name] {
        fixed.scales = fixed.scales.map { _ in scale }
        fixed.zeroPoints = fixed.zeroPoints.map { _ in override?.zeroPoint ?? 0 }
        parameters[name] = fixed
      }
    }
    return parameters
  }

  private static func describe(
    _ plan: QuantizationPlan, parameters: [String: QuantParameters], calibration: CalibrationResult
  ) -> [InsertReport.QuantizedTensor] {
    plan.tensors.compactMap { name, role in
      let root = plan.parameterRoot(of: name)
      guard let p = parameters[root] else { return nil }
      var entry = InsertReport.QuantizedTensor(
        name: name, role: "activation", type: p.type.dataType.name,
        symmetric: p.zeroPoints.allSatisfy { $0 == 0 } && p.type.isSigned, axis: p.axis, blockSize: p.blockSize)
      switch role {
      case .activation:
        entry.observed = calibration.observedRange(of: name).map { [$0.min, $0.max] }
        entry.range = calibration.range(of: name, type: p.type, symmetric: entry.symmetric).map { [$0.min, $0.max] }
      case .shared(let other):
        entry.role = "shared"
        entry.sharedWith = other
      case .fixed(let low, let high):
        entry.role = "fixed"
        entry.range = [low, high]
      case .weight: entry.role = "weight"
      case .constant: entry.role = "constant"
      }
      if p.isPerTensor {
        entry.scale = p.scales.first
        entry.zeroPoint = p.zeroPoints.first
      } else {
        entry.scales = p.scales.count
        entry.minScale = p.scales.min()
        entry.maxScale = p.scales.max()
      }
      return entry
    }
  }

  /// Whether folding the constant quantizers before the error measurement saves time: it costs a
  /// copy of the model and a fold per quantizer node (tens of microseconds each), and saves per
  /// sample the work of those nodes (microseconds each, plus their elements). So it pays when
  /// `samples x elements` averages at least 16,384 per quantizer node (about 30 microseconds of
  /// kernel work at a few nanoseconds per element): a CNN's weights, not a long chain of tiny
  /// tensors. Either way the error is the same, bit for bit.
  static func foldingWeightsPays(_ model: Model, samples: Int) -> Bool {
    var quantizers = 0
    var elements = 0
    for node in model.graph.nodes where node.opType == "QuantizeLinear" || node.opType == "DequantizeLinear" {
      // The dimensions alone (no copy of the tensor and its payload reference).
      guard let input = node.input(0), let dims = input.initializer?.dims ?? constantInputDims(of: input) else {
        continue
      }
      quantizers += 1
      elements += dims.reduce(1) { $0 * Int($1) }
    }
    return quantizers > 0 && samples * elements >= 16_384 * quantizers
  }

  /// The dimensions of the initializer behind a DequantizeLinear's input when a QuantizeLinear of
  /// an initializer produces it (the QDQ form of a weight).
  private static func constantInputDims(of value: Value) -> [Int64]? {
    guard let producer = value.producer, producer.opType == "QuantizeLinear" else { return nil }
    return producer.input(0)?.initializer?.dims
  }

  /// A copy of the fake-quant `model` whose constant weight subgraphs (`QuantizeLinear` and
  /// `DequantizeLinear` of initializers) are folded into float initializers by the executor's
  /// own kernels, so the error measurement computes them once instead of once per sample. Its
  /// outputs equal the unfolded model's bit for bit: the same kernels compute the same values.
  static func weightsFolded(_ model: Model) throws -> Model {
    let copy = try ModelLoader.load(bytes: try ModelSaver.serialize(model), name: "fake-quant model")
    _ = try FoldConstants(keepsDequantizeLinear: false).run(copy, log: RewriteLog())
    return copy
  }

  /// Runs the fake-quant model on the calibration samples and compares its outputs with the float
  /// outputs `reference` recorded during calibration (the same samples, in the same order, up to
  /// the same `maxSamples`); metrics per output, equal to `measureError(reference: Model, ...)`.
  static func measureError(
    reference: ReferenceOutputSpool, quantized: Model, calibration: SourceFactory, options: QuantizationOptions
  ) throws -> [ErrorMetrics] {
    let quantRun = try Interpreter(model: quantized, options: options.calibration.executionOptions)
    var metrics = reference.outputNames.map { ErrorMetrics(output: $0) }
    var source = try calibration()
    // The fake-quant runs may take two lanes; the metrics add up in sample order.
    _ = try SampleLanes(primary: quantRun).run(
      &source, limit: reference.samples, work: { lane, _, sample, _ in try lane.run(sample) },
      deliver: { actual, _ in
        guard let expected = try reference.next() else { return }
        for index in metrics.indices {
          let name = metrics[index].output
          guard let want = expected[name], let got = actual[name] else { continue }
          metrics[index].add(reference: want, actual: got)
        }
      })
    return metrics.filter { $0.samples > 0 }
  }

  /// Runs the float and the fake-quant model on the calibration samples; metrics per output.
  static func measureError(
    reference: Model, quantized: Model, calibration: SourceFactory, options: QuantizationOptions
  ) throws -> [ErrorMetrics] {
    let floatRun = try Interpreter(model: reference, options: options.calibration.executionOptions)
    let quantRun = try Interpreter(model: quantized, options: options.calibration.executionOptions)
    var metrics = reference.graph.outputs.map { ErrorMetrics(output: $0.name) }
    var source = try calibration()
    var count = 0
    while let sample = try source.nextSample() {
      if let limit = options.calibration.maxSamples, count >= limit { break }
      count += 1
      let expected = try floatRun.run(sample)
      let actual = try quantRun.run(sample)
      for index in metrics.indices {
        let name = metrics[index].output
        guard let want = expected[name], let got = actual[name], want.dataType.isFloatingPoint else { continue }
        metrics[index].add(reference: want, actual: got)
      }
    }
    return metrics.filter { $0.samples > 0 }
  }
}
