import Foundation

/// A planned MatMul step's constant right operand B (a float32 matrix shared by the whole batch)
/// packed for the GEMM (`NeuralNetworkPackedBMatrix`), made on the first run and reused by later
/// runs while the step is given the same weight tensor (compared by buffer identity, shape and
/// type on every run, as `PackedConvWeights`; another tensor is packed afresh and replaces it).
/// Without it every run packs B again, which took about a seventh of a transformer encoder
/// block's time. Packing copies the values unchanged and `multiplyPacked` sums each element in
/// the order of `multiply`, so a product through the kept packing has the bits of one that packs
/// for itself. A packing larger than what is left of the plan's `PackingBudget` is not made.
///
/// Thread safety: as PackedConvWeights (changed under the budget's lock; a packing handed out is
/// never changed, and the GEMM's worker threads only read it).
final class PackedMatMulWeights {
  private var weights: HostTensor?
  private var kept: NeuralNetworkPackedBMatrix?
  /// The budget bytes the kept packing takes.
  private var keptBytes = 0
  private let budget: PackingBudget

  init(budget: PackingBudget) { self.budget = budget }

  /// The packing of `b` (float32, k x n), or nil when the budget cannot keep it.
  func packed(_ b: HostTensor, k: Int, n: Int) -> NeuralNetworkPackedBMatrix? {
    budget.locked {
      if let kept, let weights, weights.buffer === b.buffer, weights.shape == b.shape, weights.dataType == b.dataType,
        kept.layout.k == k, kept.layout.n == n
      {
        return kept
      }
      let bytes = NeuralNetworkPackedB(k: k, n: n).count * MemoryLayout<Float>.stride
      guard budget.take(bytes - keptBytes) else { return nil }
      keptBytes = bytes
      let packing = withExtendedLifetime(b) {
        NeuralNetworkPackedBMatrix(NeuralNetworkMatrix(b.pointer(Float.self), rowStride: n), k: k, n: n)
      }
      weights = b
      kept = packing
      return packing
    }
  }

  /// The kernel of a planned MatMul step (default domain) whose B (input 1) is a constant
  /// (`isConstant`), with a packing of its own drawing on `budget`; nil for other nodes.
  static func kernel(for node: Node, budget: PackingBudget, isConstant: (Value) -> Bool) -> Kernel? {
    guard node.opType == "MatMul", node.domain.isEmpty || node.domain == "ai.onnx", node.inputs.count > 1,
      let b = node.inputs[1], isConstant(b)
    else { return nil }
    let packing = PackedMatMulWeights(budget: budget)
    return { try MatMulKernel.run($0, packing: packing) }
  }
}
