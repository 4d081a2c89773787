import Foundation

/// The left operand A (m x k) of `NeuralNetworkGEMM.multiply` packed once, every K block at
/// once, for products that reuse it (a convolution's weights over its bands of columns). The
/// layout is what `multiply` packs for itself: for the K block starting at column `p0` (of
/// depth `depth`), sliver `s` of `mr` rows is at `values + slivers * mr * p0 + s * mr * depth`.
final class NeuralNetworkPackedA {
  let m: Int
  let k: Int
  /// Slivers of `NeuralNetworkGEMM.mr` rows covering the m rows.
  let sliverCount: Int
  private let values: UnsafeMutablePointer<Float>

  /// Packs `alpha` * A (A is m x k).
  init(_ a: NeuralNetworkMatrix, m: Int, k: Int, alpha: Float = 1) {
    self.m = m
    self.k = k
    let mr = NeuralNetworkGEMM.mr
    sliverCount = (m + mr - 1) / mr
    values = UnsafeMutablePointer<Float>.allocate(capacity: max(1, sliverCount * mr * k))
    let depthBlock = NeuralNetworkGEMM.depthBlock(max(k, 1))
    var p0 = 0
    while p0 < k {
      let depth = min(depthBlock, k - p0)
      NeuralNetworkGEMM.packA(
        a, alpha: alpha, rowCount: m, columns: p0, depth: depth, into: values + sliverCount * mr * p0)
      p0 += depth
    }
  }

  deinit { values.deallocate() }

  /// The packed slivers of rows `firstRow...` (a multiple of `mr`) in the K block that starts
  /// at `depthStart` and is `depth` deep.
  func slivers(firstRow: Int, depthStart: Int, depth: Int) -> UnsafePointer<Float> {
    let mr = NeuralNetworkGEMM.mr
    return UnsafePointer(values + sliverCount * mr * depthStart + firstRow / mr * mr * depth)
  }
}
