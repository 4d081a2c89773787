import Foundation

/// The kernel of a planned Conv step: a `ConvEpilogueChain` run as one Conv whose output blocks
/// get the `FusedEpilogue` of its BatchNormalization and activation, with the step's cache of
/// packed constant weights (`PackedConvWeights`).
///
/// Its inputs are the Conv's, then BatchNormalization's inputs 1-4, then the activation's inputs
/// after the first (Clip's bounds). When the run shows the fusion cannot give the unfused bits
/// (X or a statistic not float32, statistics not one per output channel, Clip bounds not float32
/// scalars), or when the Interpreter's observer watches the main graph (it must see every
/// intermediate), the chain's own kernels run one after the other, as without fusion.
final class FusedConvStep {
  private let conv: Node
  private let normalization: Node?
  private let activation: Node?
  /// The registered kernels of the chain's nodes, in order (the unfused run).
  private let kernels: [Kernel]
  /// The graph the step belongs to (the observer watches only the main graph).
  private let graph: ObjectIdentifier
  private let weights: PackedConvWeights?

  /// A step for `nodes` (a Conv, then optionally a BatchNormalization, then optionally an
  /// activation) of `graph`, run by `kernels`; `weights` caches the packed weights when the
  /// weight input is a constant.
  init(nodes: [Node], kernels: [Kernel], graph: Graph, weights: PackedConvWeights?) {
    conv = nodes[0]
    normalization = nodes.dropFirst().first { $0.opType == "BatchNormalization" }
    activation = nodes.count > 1 && nodes[nodes.count - 1].opType != "BatchNormalization" ? nodes.last : nil
    self.kernels = kernels
    self.graph = ObjectIdentifier(graph)
    self.weights = weights
  }

  /// The operands of the chain's nodes that the step reads, in its input order.
  static func inputs(of nodes: [Node]) -> [Value?] {
    nodes[0].inputs + nodes.dropFirst().flatMap { $0.inputs.dropFirst() }
  }

  /// Runs the step on `context` (whose node is the chain's last and inputs are `inputs(of:)`).
  func run(_ context: KernelContext) throws -> [HostTensor?] {
    let convInputs = Array(context.inputs.prefix(conv.inputs.count))
    let convContext = self.context(conv, convInputs, context)
    if normalization == nil && activation == nil {
      return try ConvKernel.run(convContext, epilogue: nil, packing: weights)
    }
    let observing = context.interpreter.observer != nil && ObjectIdentifier(context.interpreter.model.graph) == graph
    if !observing, let epilogue = try epilogue(context, convContext) {
      return try ConvKernel.run(convContext, epilogue: epilogue, packing: weights)
    }
    return try runUnfused(context, convContext, observing: observing)
  }

  /// The context of chain node `node` with `inputs`, in the step's run.
  private func context(_ node: Node, _ inputs: [HostTensor?], _ step: KernelContext) -> KernelContext {
    KernelContext(
      node: node, inputs: inputs, opsetVersion: step.opsetVersion, interpreter: step.interpreter,
      environment: step.environment, attributes: node.attributes)
  }

  /// The inputs of the chain node after the Conv at `position` (1 or 2), its first input `first`.
  private func inputs(ofNodeAt position: Int, first: HostTensor?, _ context: KernelContext) -> [HostTensor?] {
    var start = conv.inputs.count
    if position == 2, let normalization { start += normalization.inputs.count - 1 }
    let node = position == 1 ? (normalization ?? activation) : activation
    let count = (node?.inputs.count ?? 1) - 1
    return [first] + context.inputs[start..<(start + count)]
  }

  /// The epilogue for this run's inputs; nil when only the unfused kernels give the unfused bits.
  private func epilogue(_ context: KernelContext, _ convContext: KernelContext) throws -> FusedEpilogue? {
    guard let x = convContext.optionalInput(0), x.dataType == .float,
      let w = convContext.optionalInput(1), w.dataType == .float, w.rank >= 1,
      convContext.optionalInput(2).map({ $0.dataType == .float }) ?? true
    else { return nil }
    var normalized: (factor: [Float], shift: [Float])?
    if let normalization {
      let nodeContext = self.context(normalization, inputs(ofNodeAt: 1, first: nil, context), context)
      var statistics: [HostTensor] = []
      for index in 1...4 {
        guard let tensor = nodeContext.optionalInput(index), NeuralNetworkFloat.types.contains(tensor.dataType),
          tensor.count == w.shape[0]
        else { return nil }
        statistics.append(try NeuralNetworkFloat.input(tensor, "input \(index)", nodeContext))
      }
      normalized = FusedEpilogue.normalization(
        scale: statistics[0], bias: statistics[1], mean: statistics[2], variance: statistics[3],
        epsilon: nodeContext.float("epsilon", default: 1e-5))
    }
    guard let activation else { return FusedEpilogue(normalization: normalized, activation: nil) }
    let nodeContext = self.context(
      activation, inputs(ofNodeAt: normalization == nil ? 1 : 2, first: nil, context), context)
    guard let kind = try Self.activation(activation.opType, nodeContext) else { return nil }
    return FusedEpilogue(normalization: normalized, activation: kind)
  }

  /// The float32 activation `op` of `context`; nil when its bounds are not float32 scalars.
  private static func activation(_ op: String, _ context: KernelContext) throws -> FusedEpilogue.Activation? {
    switch op {
    case "Relu":
      return .relu
    case "LeakyRelu":
      return .leakyRelu(alpha: context.float("alpha", default: 0.01))
    default:
      var bounds: [Float] = [-.infinity, .infinity]
      for (index, name) in ["min", "max"].enumerated() {
        let bound: HostTensor?
        if context.opsetVersion < 11 {
          bound = try context.float(name).map { try ElementwiseCast.convert(.scalar($0), to: .float, saturate: true) }
        } else {
          bound = context.optionalInput(index + 1)
        }
        guard let bound else { continue }
        guard bound.dataType == .float, bound.count == 1 else { return nil }
        bounds[index] = ElementwiseSupport.firstFloat(bound)
      }
      return .clip(low: bounds[0], high: bounds[1])
    }
  }

  /// The chain's kernels one after the other, each intermediate shown to the observer when
  /// `observing`.
  private func runUnfused(_ context: KernelContext, _ convContext: KernelContext, observing: Bool) throws
    -> [HostTensor?]
  {
    var outputs = try kernels[0](convContext)
    for (position, node) in [normalization, activation].compactMap({ $0 }).enumerated() {
      let previous = position == 0 ? conv : normalization
      if observing, let value = previous?.outputs.first ?? nil, let tensor = outputs.first ?? nil {
        context.interpreter.observer?(value, tensor)
      }
      let nodeContext = self.context(
        node, inputs(ofNodeAt: position + 1, first: outputs.first ?? nil, context), context)
      outputs = try kernels[position + 1](nodeContext)
    }
    return outputs
  }
}
