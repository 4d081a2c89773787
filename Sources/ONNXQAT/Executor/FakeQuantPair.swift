import Foundation

/// A QuantizeLinear whose only reader is a DequantizeLinear (the fake-quant pair a Q/DQ graph puts
/// on each activation), which a GraphPlan runs as one step (`FusedFakeQuantStep`, or the end of a
/// fused Conv step) that writes the DequantizeLinear's float output directly, never
/// materializing the integer tensor between them; the maths is `FakeQuantization`'s.
///
///     before:  q = QuantizeLinear (x, s, zp)
///              y = DequantizeLinear (q, s, zp)
///     after:   y = [QuantizeLinear + DequantizeLinear] (x, s, zp, s, zp)
///
/// The step runs where the DequantizeLinear was (its inputs are computed by then).
///
/// Skip cases (the two nodes stay steps of their own):
/// 1. either node outside the default domain, run by a model-local function, with no kernel,
///    with an attribute that refers to a calling function's or with more than one named output,
///    or a registry whose QuantizeLinear or DequantizeLinear kernels are not onnx-qat's own
///    (`KernelRegistry.fusedOpsAreBuiltIn`; `ValueReaders.isFusable`);
/// 2. the QuantizeLinear's output read other than once, by the DequantizeLinear's input 0 (two
///    readers, read by a subgraph, a graph output, a reader before its producer);
/// 3. a scale or zero point of either node that is not constant: neither an initializer that no
///    graph input overrides nor an output of one of the constant cache's nodes;
/// 4. a scale or zero point initializer of more than one value (per-axis or blocked);
/// 5. a QuantizeLinear that is itself a constant node (a weight's pair: the constant cache
///    computes it once);
/// 6. attributes that send either kernel off the paths `FakeQuantization` reproduces
///    (`block_size`, a DequantizeLinear `output_dtype` other than float).
///
/// Conditions that only the run can check (float32 x, a scale or zero point from a constant node
/// of more than one value or of another type; `FakeQuantization.init`) make the
/// step run the two kernels one after the other, with their errors.
struct FakeQuantPair {
  /// Node indices in the graph.
  let quantize: Int
  let dequantize: Int

  /// The pairs of `nodes` (planned at default-domain opset `version`), whose readers are
  /// `readers`; `runsKernel` tells whether the node at an index runs a registered kernel,
  /// `isFixedScalar` whether a value is constant and, when it is a decoded initializer, of one
  /// value (skips 3, 4), `isConstantNode` whether a node is a constant-cache node.
  static func find(
    nodes: [Node], readers: ValueReaders, version: Int, runsKernel: (Int) -> Bool, isFixedScalar: (Value) -> Bool,
    isConstantNode: (Node) -> Bool
  ) -> [FakeQuantPair] {
    func parametersFit(_ node: Node) -> Bool {
      node.inputs.dropFirst().allSatisfy { input in input.map(isFixedScalar) ?? true }
    }
    var pairs: [FakeQuantPair] = []
    for (index, node) in nodes.enumerated() where node.opType == "QuantizeLinear" {
      guard node.inputs.count >= 2, let reader = readers.soleReader(of: node, at: index),  // skip 2
        nodes[reader].opType == "DequantizeLinear", nodes[reader].inputs.count >= 2,
        ValueReaders.isFusable(node, runsKernel: runsKernel(index)),  // skip 1
        ValueReaders.isFusable(nodes[reader], runsKernel: runsKernel(reader)),  // skip 1
        parametersFit(node), parametersFit(nodes[reader]),  // skips 3, 4
        !isConstantNode(node),  // skip 5
        FakeQuantization.attributesFit(quantize: node, dequantize: nodes[reader], version: version)  // skip 6
      else { continue }
      pairs.append(FakeQuantPair(quantize: index, dequantize: reader))
    }
    return pairs
  }
}
