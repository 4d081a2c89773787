import Foundation

/// A Conv node and the BatchNormalization and/or activation (Relu, Clip, LeakyRelu) that a
/// GraphPlan runs with it as one fused step (`FusedConvStep`): the chain's intermediate tensors
/// are never materialized.
///
///     before:  c = Conv (x, w, b)
///              n = BatchNormalization (c, scale, bias, mean, var)
///              y = Clip (n, lo, hi)
///     after:   y = [Conv + BatchNormalization + Clip] (x, w, b, scale, bias, mean, var, lo, hi)
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
/// 5. BatchNormalization with training_mode = 1 (opset 14 on), or without its five inputs.
///
/// Conditions that only the run can check (float32 X, one statistic per output channel, scalar
/// float32 Clip bounds) make the fused step run the unfused kernels one after the other.
struct ConvEpilogueChain {
  /// Node indices in the graph.
  let conv: Int
  let normalization: Int?
  let activation: Int?

  /// The index of the chain's last node, where its step runs.
  var last: Int { activation ?? normalization ?? conv }

  /// The indices of its nodes, in order.
  var nodes: [Int] { [conv] + [normalization, activation].compactMap { $0 } }

  /// The activations a chain may end with.
  static let activations: Set<String> = ["Relu", "Clip", "LeakyRelu"]

  /// The default-domain ops whose kernels a fused step replaces with onnx-qat's own code.
  static let fusedOps: Set<String> = activations.union(["Conv", "BatchNormalization"])

  /// The chains of `nodes` (the nodes of `graph`, planned at default-domain opset `version`),
  /// every Conv of a kernel a chain of its own at least; `runsKernel` tells whether a node runs
  /// a registered kernel (not a function, not missing).
  static func find(in graph: Graph, nodes: [Node], version: Int, runsKernel: (Node) -> Bool)
    -> [ConvEpilogueChain]
  {
    var uses: [ObjectIdentifier: Int] = [:]
    var consumer: [ObjectIdentifier: Int] = [:]
    var readBySubgraph = Set<ObjectIdentifier>()
    for (index, node) in nodes.enumerated() {
      for case let input? in node.inputs {
        uses[ObjectIdentifier(input), default: 0] += 1
        consumer[ObjectIdentifier(input)] = index
      }
      for subgraph in node.subgraphs {
        for inner in subgraph.allNodes {
          for case let input? in inner.inputs { readBySubgraph.insert(ObjectIdentifier(input)) }
        }
      }
    }
    let graphOutputs = Set(graph.outputs.map { ObjectIdentifier($0) })
    func eligible(_ node: Node) -> Bool {
      (node.domain.isEmpty || node.domain == "ai.onnx") && runsKernel(node)  // skip 1
        && !node.attributes.contains { $0.refAttrName != nil }  // skip 2
        && node.outputs.dropFirst().allSatisfy { $0 == nil } && (node.outputs.first ?? nil) != nil  // skip 4
    }
    // The node that alone reads the single output of node `index`, reading it as input 0.
    func next(after index: Int) -> Int? {
      guard let output = nodes[index].outputs.first ?? nil else { return nil }
      let id = ObjectIdentifier(output)
      guard uses[id] == 1, !readBySubgraph.contains(id), !graphOutputs.contains(id),  // skip 3
        let reader = consumer[id], reader > index, nodes[reader].inputs.first.flatMap({ $0 }) === output,
        eligible(nodes[reader])
      else { return nil }
      return reader
    }
    var chains: [ConvEpilogueChain] = []
    for (index, node) in nodes.enumerated() where node.opType == "Conv" && eligible(node) {
      var normalization: Int?
      var end = index
      if let reader = next(after: index), nodes[reader].opType == "BatchNormalization",
        isInferenceForm(nodes[reader], version: version)
      {
        normalization = reader
        end = reader
      }
      let activation = next(after: end).flatMap { activations.contains(nodes[$0].opType) ? $0 : nil }
      chains.append(ConvEpilogueChain(conv: index, normalization: normalization, activation: activation))
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
