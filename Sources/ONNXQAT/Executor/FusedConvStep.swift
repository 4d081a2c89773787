import Foundation

/// The kernel of a planned Conv step: a `ConvEpilogueChain` run as one Conv whose output blocks
/// get the `FusedEpilogue` of its BatchNormalization, activation and fake-quant pair, with the
/// step's cache of packed constant weights (`PackedConvWeights`).
///
/// Its inputs are the Conv's, then BatchNormalization's inputs 1-4, then the activation's inputs
/// after the first (Clip's bounds), then the QuantizeLinear's and DequantizeLinear's scales and
/// zero points (`FusedMembers`). When the run shows the fusion cannot give the unfused bits
/// (X or a statistic not float32, statistics not one per output channel, Clip bounds not float32
/// scalars, scales or zero points `FakeQuantization` does not take), or when the Interpreter's
/// observer watches the main graph (it must see every intermediate), the chain's own kernels run
/// one after the other, as without fusion.
final class FusedConvStep {
  /// The chain's nodes and kernels.
  private let members: FusedMembers
  /// Member indices of the BatchNormalization, the activation and the QuantizeLinear.
  private let normalization: Int?
  private let activation: Int?
  private let quantize: Int?
  private let weights: PackedConvWeights?

  /// A step for `nodes` (a Conv, then optionally a BatchNormalization, then optionally an
  /// activation, then optionally a QuantizeLinear and its DequantizeLinear) of `graph`, run by
  /// `kernels`; `weights` caches the packed weights when the weight input is a constant.
  init(nodes: [Node], kernels: [Kernel], graph: Graph, weights: PackedConvWeights?) {
    members = FusedMembers(nodes: nodes, kernels: kernels, graph: graph)
    normalization = nodes.firstIndex { $0.opType == "BatchNormalization" }
    activation = nodes.firstIndex { ConvEpilogueChain.activations.contains($0.opType) }
    quantize = nodes.firstIndex { $0.opType == "QuantizeLinear" }
    self.weights = weights
  }

  /// Runs the step on `context` (whose node is the chain's last and inputs are
  /// `FusedMembers.inputs(of:)` its nodes).
  func run(_ context: KernelContext) throws -> [HostTensor?] {
    let convContext = members.context(ofMember: 0, first: nil, context)
    if members.nodes.count == 1 {
      return try ConvKernel.run(convContext, epilogue: nil, packing: weights)
    }
    let observing = members.isObserved(context)
    if !observing, let epilogue = try epilogue(context, convContext) {
      return try ConvKernel.run(convContext, epilogue: epilogue, packing: weights)
    }
    return try members.runUnfused(context, observing: observing)
  }

  /// The epilogue for this run's inputs; nil when only the unfused kernels give the unfused bits.
  private func epilogue(_ context: KernelContext, _ convContext: KernelContext) throws -> FusedEpilogue? {
    guard let x = convContext.optionalInput(0), x.dataType == .float,
      let w = convContext.optionalInput(1), w.dataType == .float, w.rank >= 1,
      convContext.optionalInput(2).map({ $0.dataType == .float }) ?? true
    else { return nil }
    var normalized: (factor: [Float], shift: [Float])?
    if let normalization {
      let nodeContext = members.context(ofMember: normalization, first: nil, context)
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
    var kind: FusedEpilogue.Activation?
    if let activation {
      let nodeContext = members.context(ofMember: activation, first: nil, context)
      guard let found = try Self.activation(members.nodes[activation].opType, nodeContext) else { return nil }
      kind = found
    }
    var fakeQuantization: FakeQuantization?
    if let quantize {
      guard let found = FakeQuantization(members, quantizeAt: quantize, context) else { return nil }
      fakeQuantization = found
    }
    return FusedEpilogue(normalization: normalized, activation: kind, fakeQuantization: fakeQuantization)
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
}
