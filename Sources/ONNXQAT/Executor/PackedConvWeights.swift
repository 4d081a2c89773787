import Foundation

/// A planned Conv step's weights packed for the GEMM (`NeuralNetworkPackedA`, one per group),
/// made on the first run and reused by later runs while the step is given the same weight tensor
/// (an initializer, or the output of a constant node the ConstantCache keeps). Packing copies
/// the values unchanged, so a product through the cached packing has the bits of one that packs
/// for itself.
///
/// The weight tensor is kept (so its buffer cannot be freed and its address reused) and compared
/// by buffer identity, shape and type on every run; another tensor is packed afresh and replaces
/// it. Packings larger than what is left of the plan's `PackingBudget` are not kept.
///
/// Thread safety: the interpreters of sample lanes share a plan and run it at once, so a step's
/// cache is read and changed under its plan's budget lock (`PackingBudget.locked`); a packing
/// handed out is never changed, and the GEMM's worker threads only read it.
final class PackedConvWeights {
  private var weights: HostTensor?
  private var groups: [NeuralNetworkPackedA] = []
  /// The budget bytes the kept packings take.
  private var keptBytes = 0
  private let budget: PackingBudget

  init(budget: PackingBudget) { self.budget = budget }

  /// The packing of group `group` of `w` (float32, the raw weight input `raw`), as the GEMM's
  /// left operand of `m` rows (the group's output channels) and depth `k`.
  func packed(_ w: HostTensor, raw: HostTensor, group: Int, groups count: Int, m: Int, k: Int) -> NeuralNetworkPackedA {
    budget.locked { packedLocked(w, raw: raw, group: group, groups: count, m: m, k: k) }
  }

  private func packedLocked(_ w: HostTensor, raw: HostTensor, group: Int, groups count: Int, m: Int, k: Int)
    -> NeuralNetworkPackedA
  {
    if let kept = weights, kept.buffer === raw.buffer, kept.shape == raw.shape, kept.dataType == raw.dataType,
      groups.count == count, groups[group].m == m, groups[group].k == k
    {
      return groups[group]
    }
    let pointer = UnsafePointer(w.pointer(Float.self))
    func pack(_ g: Int) -> NeuralNetworkPackedA {
      NeuralNetworkPackedA(NeuralNetworkMatrix(pointer + g * m * k, rowStride: k), m: m, k: k)
    }
    let bytes = count * (m + NeuralNetworkGEMM.mr - 1) / NeuralNetworkGEMM.mr * NeuralNetworkGEMM.mr * k * 4
    guard budget.take(bytes - keptBytes) else {
      return withExtendedLifetime(w) { pack(group) }
    }
    keptBytes = bytes
    weights = raw
    groups = (0..<count).map(pack)
    return withExtendedLifetime(w) { groups[group] }
  }
}

/// The bytes of packed weights one plan may keep (shared by its Conv steps).
final class PackingBudget {
  private var remaining: Int
  /// Held while a step's packing cache is read or changed (`locked`).
  private let lock = NSLock()

  init(bytes: Int) { remaining = bytes }

  /// Runs `body` holding the plan's packing lock: interpreters sharing the plan (sample lanes)
  /// may run the same step, or two steps drawing on this budget, at once.
  func locked<Result>(_ body: () -> Result) -> Result {
    lock.lock()
    defer { lock.unlock() }
    return body()
  }

  /// Takes `bytes` (negative: gives back) when that much is left.
  func take(_ bytes: Int) -> Bool {
    guard bytes <= remaining else { return false }
    remaining -= bytes
    return true
  }
}
