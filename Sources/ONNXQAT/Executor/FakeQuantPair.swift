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
///    computes it once).
///
/// Conditions that only the run can check (float32 x, a scale or zero point from a constant node
/// of more than one value or of another type, attributes; `FakeQuantization.init`) make the
/// step run the two kernels one after the other, with their errors.
struct FakeQuantPair {
  /// Node indices in the graph.
  let quantize: Int
  let dequantize: Int

  /// The pairs of `nodes`, whose readers are `readers`; `runsKernel` tells whether a node runs a
  /// registered kernel, `isConstant` whether a value is constant (skip 3), `isConstantNode`
  /// whether a node is a constant-cache node, `decodedCount` the number of values of a decoded
  /// initializer (nil for other values).
  static func find(
    nodes: [Node], readers: ValueReaders, runsKernel: (Node) -> Bool, isConstant: (Value) -> Bool,
    isConstantNode: (Node) -> Bool, decodedCount: (Value) -> Int?
  ) -> [FakeQuantPair] {
    // Scales and zero points: present ones constant (skip 3) and of one value when known (skip 4).
    func parametersFit(_ node: Node) -> Bool {
      node.inputs.dropFirst().allSatisfy { input in
        guard let input else { return true }
        return isConstant(input) && (decodedCount(input) ?? 1) == 1
      }
    }
    var pairs: [FakeQuantPair] = []
    for (index, node) in nodes.enumerated() where node.opType == "QuantizeLinear" {
      guard node.inputs.count >= 2, ValueReaders.isFusable(node, runsKernel: runsKernel),  // skip 1
        let reader = readers.soleReader(of: node, at: index),  // skip 2
        nodes[reader].opType == "DequantizeLinear", nodes[reader].inputs.count >= 2,
        ValueReaders.isFusable(nodes[reader], runsKernel: runsKernel),  // skip 1
        parametersFit(node), parametersFit(nodes[reader]),  // skips 3, 4
        !isConstantNode(node)  // skip 5
      else { continue }
      pairs.append(FakeQuantPair(quantize: index, dequantize: reader))
    }
    return pairs
  }
}
