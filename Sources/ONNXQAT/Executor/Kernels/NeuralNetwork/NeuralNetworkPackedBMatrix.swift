import Foundation

/// A right operand B (k x n) packed whole in the `NeuralNetworkPackedB` layout, every K block at
/// once, owning its floats: what `NeuralNetworkGEMM.multiplyPacked` reads. Packing copies the
/// values unchanged (the slivers `multiply` packs for itself, zero-padded on the right).
final class NeuralNetworkPackedBMatrix {
  let layout: NeuralNetworkPackedB
  let values: UnsafeMutablePointer<Float>

  /// Packs `b`, k x n.
  init(_ b: NeuralNetworkMatrix, k: Int, n: Int) {
    layout = NeuralNetworkPackedB(k: k, n: n)
    values = UnsafeMutablePointer<Float>.allocate(capacity: max(1, layout.count))
    var p0 = 0
    while p0 < k {
      let depth = min(layout.depthBlock, k - p0)
      NeuralNetworkGEMM.packB(
        b, rows: p0, depth: depth, columns: 0, width: n, slivers: 0..<layout.sliverCount,
        into: values + layout.sliverCount * NeuralNetworkGEMM.nr * p0)
      p0 += depth
    }
  }

  deinit { values.deallocate() }
}
