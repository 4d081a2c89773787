import Foundation

/// A planned QLinearConv step's weights packed for the u8 x s8 GEMM (`Int8Gemm.QuadPacking`, one
/// per group: `w - w_zero_point` as int8 quads and each row's sum), made on the first run and
/// reused by later runs while the step is given the same weight tensor and the same weight zero
/// points. Packing copies the values unchanged, so a product through the kept packing has the bits
/// of one that packs for itself.
///
/// The weight tensor is kept (so its buffer cannot be freed and its address reused) and compared
/// by buffer identity, shape and type on every run, the zero points by value; on any difference
/// the groups are packed afresh and replace the kept ones. Packings larger than what is left of
/// the plan's `PackingBudget` (shared with PackedConvWeights) are not kept.
///
/// Thread safety: as PackedConvWeights (changed under the budget's lock; GEMM workers only read).
final class PackedIntegerWeights {
  private var weights: HostTensor?
  private var zeros: [Int32] = []
  private var groups: [Int8Gemm.QuadPacking?] = []
  /// The budget bytes the kept packings take.
  private var keptBytes = 0
  private let budget: PackingBudget

  init(budget: PackingBudget) { self.budget = budget }

  /// The packing of group `group` (of `count`) of the weight tensor `w` (int8 or uint8, rows of
  /// depth `k`, `m` rows per group) minus the zero points `wZero` (1 or one per output channel).
  func packed(_ w: HostTensor, wZero: [Int32], group: Int, groups count: Int, m: Int, k: Int) -> Int8Gemm.QuadPacking {
    budget.locked { packedLocked(w, wZero: wZero, group: group, groups: count, m: m, k: k) }
  }

  private func packedLocked(_ w: HostTensor, wZero: [Int32], group: Int, groups count: Int, m: Int, k: Int)
    -> Int8Gemm.QuadPacking
  {
    let same =
      weights.map { $0.buffer === w.buffer && $0.shape == w.shape && $0.dataType == w.dataType } ?? false
      && zeros == wZero && groups.count == count
    if same, let packing = groups[group], packing.m == m, packing.k == k { return packing }
    if !same {
      _ = budget.take(-keptBytes)
      keptBytes = 0
      weights = w
      zeros = wZero
      groups = Array(repeating: nil, count: count)
    }
    let packing = Self.pack(w, wZero: wZero, group: group, m: m, k: k)
    guard budget.take(packing.byteCount) else { return packing }
    keptBytes += packing.byteCount
    groups[group] = packing
    return packing
  }

  /// The kernel of a planned QLinearConv step (default domain) whose weight (input 3) is a
  /// constant (`isConstant`), with a cache of its own drawing on `budget`; nil for
  /// other nodes.
  static func kernel(for node: Node, budget: PackingBudget, isConstant: (Value) -> Bool) -> Kernel? {
    guard node.opType == "QLinearConv", node.domain.isEmpty || node.domain == "ai.onnx", node.inputs.count > 3,
      let w = node.inputs[3], isConstant(w)
    else { return nil }
    let packing = PackedIntegerWeights(budget: budget)
    return { try QLinearConvKernel.run($0, packing: packing) }
  }

  /// Packs group `group` of `w` (rows `group * m ..< (group + 1) * m`) minus its zero points.
  static func pack(_ w: HostTensor, wZero: [Int32], group: Int, m: Int, k: Int) -> Int8Gemm.QuadPacking {
    let a = Int8Gemm.Operand(
      base: UnsafeRawPointer(w.pointer(UInt8.self)) + group * m * k, isSigned: w.dataType == .int8, rowStride: k)
    let zeros = wZero.count == 1 ? wZero : Array(wZero[(group * m)..<((group + 1) * m)])
    return withExtendedLifetime(w) { Int8Gemm.QuadPacking(a, aZero: zeros, m: m, k: k) }
  }
}
