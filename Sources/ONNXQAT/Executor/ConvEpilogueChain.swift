import Foundation

/// A Conv node and the BatchNormalization and/or activation (Relu, Clip, LeakyRelu) and/or
/// fake-quant pair (`FakeQuantPair`: QuantizeLinear -> DequantizeLinear) that a GraphPlan runs
/// with it as one fused step (`FusedConvStep`): the chain's intermediate tensors are never
/// materialized.
///
///     before:  c = Conv (x, w, b)
///              n = BatchNormalization (c, scale, bias, mean, var)
///              a = Clip (n, lo, hi)
///              q = QuantizeLinear (a, s, zp)
///              y = DequantizeLinear (q, s, zp)
///     after:   y = [Conv + BatchNormalization + Clip + QuantizeLinear + DequantizeLinear]
///                    (x, w, b, scale, bias, mean, var, lo, hi, s, zp, s, zp)
///
/// The step runs where the chain's last node was (every input of the chain is computed by
/// then) and writes that node's output; the maths of the epilogue is `FusedEpilogue`'s.
///
/// Skip cases (a node is not added to the chain; the Conv stays a step of its own):
/// 1. an op outside the default domain, or run by a model-local function, or with no kernel, or
///    a registry whose Conv, BatchNormalization or activation kernels are not onnx-qat's own
///    (`KernelRegistry.fusedOpsAreBuiltIn`: the plan has no Conv steps then);
/// 2. an attribute that refers to a calling function's (resolved per call, not at planning);
/// 3. an intermediate output read by more than one input (or twice by one node), read by a
///    subgraph, a graph output, or read by a node that comes before its producer;
/// 4. a node with more than one named output (BatchNormalization's training outputs, Conv's
///    nonexistent ones);
/// 5. BatchNormalization with training_mode = 1 (opset 14 on), or without its five inputs;
/// 6. a QuantizeLinear that does not start a fake-quant pair (`FakeQuantPair`'s skip cases).
///
/// Conditions that only the run can check (float32 X, one statistic per output channel, scalar
/// float32 Clip bounds, what `FakeQuantization` takes) make the fused step run the unfused kernels one after the other.
struct ConvEpilogueChain {
  /// Node indices in the graph.
  let conv: Int
  let normalization: Int?
  let activation: Int?
  /// The QuantizeLinear -> DequantizeLinear pair that ends the chain.
  let fakeQuant: FakeQuantPair?

  /// The index of the chain's last node, where its step runs.
  var last: Int { fakeQuant?.dequantize ?? activation ?? normalization ?? conv }

  /// The indices of its nodes, in order.
  var nodes: [Int] {
    [conv] + [normalization, activation, fakeQuant?.quantize, fakeQuant?.dequantize].compactMap { $0 }
  }

  /// The activations a chain may end with.
  static let activations: Set<String> = ["Relu", "Clip", "LeakyRelu"]

  /// The default-domain ops whose kernels a fused step, or a step keeping packed weights
  /// (`PackedIntegerWeights`, `PackedMatMulWeights`), replaces with onnx-qat's own code.
  static let fusedOps: Set<String> = activations.union(
    ["Conv", "BatchNormalization", "QuantizeLinear", "DequantizeLinear", "QLinearConv", "MatMul"])

  /// The chains of `nodes` (a graph's nodes, planned at default-domain opset `version`), every
  /// Conv of a kernel a chain of its own at least; `readers` tells who reads each node output,
  /// `runsKernel` whether the node at an index runs a registered kernel (not a function, not missing),
  /// `fakeQuant` the fake-quant pair starting at a node index (nil: none).
  static func find(
    nodes: [Node], readers: ValueReaders, version: Int, runsKernel: (Int) -> Bool,
    fakeQuant: (Int) -> FakeQuantPair?
  ) -> [ConvEpilogueChain] {
    // The node that alone reads the single output of node `index`, reading it as input 0.
    func next(after index: Int) -> Int? {
      guard let reader = readers.soleReader(of: nodes[index], at: index),  // skip 3
        ValueReaders.isFusable(nodes[reader], runsKernel: runsKernel(reader))  // skips 1, 2, 4
      else { return nil }
      return reader
    }
    var chains: [ConvEpilogueChain] = []
    for (index, node) in nodes.enumerated()
    where node.opType == "Conv" && ValueReaders.isFusable(node, runsKernel: runsKernel(index)) {
      var normalization: Int?
      var end = index
      if let reader = next(after: index), nodes[reader].opType == "BatchNormalization",
        isInferenceForm(nodes[reader], version: version)
      {
        normalization = reader
        end = reader
      }
      let activation = next(after: end).flatMap { activations.contains(nodes[$0].opType) ? $0 : nil }
      let pair = next(after: activation ?? end).flatMap(fakeQuant)  // skip 6
      chains.append(
        ConvEpilogueChain(conv: index, normalization: normalization, activation: activation, fakeQuant: pair))
    }
    return chains
  }

  /// True for a BatchNormalization with its five inputs and not in training mode (skip 5).
  private static func isInferenceForm(_ node: Node, version: Int) -> Bool {
    guard node.inputs.count == 5, node.inputs.allSatisfy({ $0 != nil }) else { return false }
    guard version >= 14, case .int(let training)? = node.attribute("training_mode")?.value else { return true }
    return training == 0
  }
}
