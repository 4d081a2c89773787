import Foundation

/// `onnx-qat lower` as a library call: turns a fake-quant (Q/DQ) graph into an integer graph.
///
/// Steps: 1. fold (constant weights behind QuantizeLinear become integer initializers, batch
/// norms fold); 2. the lowering rules, anchored at every QuantizeLinear, replace
/// `DequantizeLinear -> op -> QuantizeLinear` by integer ops (a rule table, one file per rule,
/// after TVM's FakeQuantizationToInteger); 3. every float op left is a float island, named with
/// the reason its rule refused (or that no rule exists); `strict` makes any island an error.
public enum IntegerLowering {
  /// The rule table for a target, in the order rules are tried (`poolShapes`: PoolInputShapes).
  public static func rules(_ options: LoweringOptions, poolShapes: [ObjectIdentifier: [Int]] = [:]) -> [RewriteRule] {
    [
      LowerConvToQLinearConv(requantization: options.requantization),
      LowerConvToConvInteger(requantization: options.requantization),
      LowerMatMulToQLinearMatMul(requantization: options.requantization),
      LowerGemmToQGemm(options: options), LowerMatMulToMatMulInteger(options: options),
      LowerBinaryToQLinear(options: options), LowerBinaryToInteger(options: options),
      LowerPoolingToQLinear(options: options), LowerPoolingToInteger(options: options, shapes: poolShapes),
      LowerSoftmaxToQLinearSoftmax(target: options.target), LowerConcat(options: options), LowerDataMovement(),
      LowerUnaryToLookupTable(), ConvTransposeStaysFloat(),
    ]
  }

  /// Lowers `model` in place and reports what became what.
  public static func lower(_ model: Model, options: LoweringOptions = LoweringOptions(), log: RewriteLog = RewriteLog())
    throws -> LoweringReport
  {
    let start = Date()
    let quantizers = model.graph.allNodes.filter { $0.opType == "QuantizeLinear" || $0.opType == "DequantizeLinear" }
    guard !quantizers.isEmpty else {
      throw ONNXQATError.badArgument(
        "the model has no QuantizeLinear/DequantizeLinear nodes: lower takes a fake-quant model (make one with insert)")
    }
    for node in quantizers {
      if case .failure(let refusal) = QDQParameters.read(node, model: model) {
        throw ONNXQATError.badArgument("cannot lower: \(refusal.reason)")
      }
    }
    let before = LoweringReport.histogram(model.graph)
    _ = try Folding.fold(model, log: log)
    let poolShapes = options.integerArithmetic ? PoolInputShapes.probe(model) : [:]
    let ruleSet = RuleSet(name: "lower", rules: rules(options, poolShapes: poolShapes))
    let ruleNames = Set(ruleSet.rules.map(\.name))
    _ = try ruleSet.run(model, log: log)
    _ = try EliminateDeadNodes().run(model, log: log)
    if options.integerIO {
      try ExposeIntegerIO.run(model, log: log)
      _ = try EliminateDeadNodes().run(model, log: log)
    }
    if model.graph.allNodes.contains(where: { $0.domain == "com.microsoft" }),
      model.opsetVersion("com.microsoft") == nil
    {
      model.opsetImports.append(OpsetImport(domain: "com.microsoft", version: 1))
    }
    let islands = findIslands(model, log: log)
    if options.strict, let first = islands.first {
      throw ONNXQATError.badArgument(
        "--strict: \(islands.count) float island\(islands.count == 1 ? "" : "s") left, first \(first.node): \(first.reason)"
      )
    }
    return LoweringReport(
      target: options.target.rawValue, requantization: options.requantization.rawValue,
      lowered: log.firings.filter { ruleNames.contains($0.rule) }.map { .init(rule: $0.rule, nodes: $0.nodes) },
      islands: islands,
      notes: log.notes.map { "\($0.pass): \($0.message)" }, opsBefore: before,
      opsAfter: LoweringReport.histogram(model.graph), seconds: Date().timeIntervalSince(start))
  }

  /// Float compute left in the main graph: every node other than Q/DQ that produces a float
  /// tensor, with the refusal its rule gave (or "no lowering rule").
  static func findIslands(_ model: Model, log: RewriteLog) -> [LoweringReport.Island] {
    var islands: [LoweringReport.Island] = []
    for node in model.graph.nodes where node.opType != "QuantizeLinear" && node.opType != "DequantizeLinear" {
      let producesFloat = node.outputs.compactMap { $0 }.contains { output in
        output.uses.contains { $0.node?.opType == "QuantizeLinear" }
          || (node.inputs.contains { $0?.producer?.opType == "DequantizeLinear" })
      }
      guard producesFloat else { continue }
      let label = node.label
      let reason =
        log.refusals.first { $0.reason.contains(label) }?.reason
        ?? "no lowering rule for \(node.opType) between DequantizeLinear and QuantizeLinear"
      islands.append(.init(node: label, opType: node.opType, reason: reason))
    }
    return islands
  }
}
