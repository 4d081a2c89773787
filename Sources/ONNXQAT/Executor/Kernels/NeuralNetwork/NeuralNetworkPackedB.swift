import Foundation

/// The layout of a right operand B (k x n) packed whole, every K block at once, for a product
/// whose B is written straight into it (a convolution's im2col columns, `Im2col.expandPacked`)
/// instead of being packed by `NeuralNetworkGEMM.multiply` from a matrix. Each K block (the
/// blocks `multiply` takes: `NeuralNetworkGEMM.depthBlock(k)` deep, the last one shallower) holds
/// the slivers of `nr` columns that `multiply` packs for that block, each `depth` x `nr`
/// row-major and zero-padded on the right:
///
///     B[p, j] is at  sliverCount * nr * p0 + (j / nr) * nr * depth + (p - p0) * nr + j % nr
///
/// where p0 is the first row of p's K block and depth that block's depth.
struct NeuralNetworkPackedB {
  let k: Int
  let n: Int
  /// Slivers of `NeuralNetworkGEMM.nr` columns covering the n columns.
  let sliverCount: Int
  /// The depth of every K block but maybe the last.
  let depthBlock: Int

  init(k: Int, n: Int) {
    self.k = k
    self.n = n
    sliverCount = (n + NeuralNetworkGEMM.nr - 1) / NeuralNetworkGEMM.nr
    depthBlock = NeuralNetworkGEMM.depthBlock(max(k, 1))
  }

  /// Floats the packed operand takes.
  var count: Int { sliverCount * NeuralNetworkGEMM.nr * k }

  /// Where row `p`'s first sliver starts (its sliver `s` starts `s * sliverStride(p)` further on).
  @inline(__always)
  func rowOffset(_ p: Int) -> Int {
    let p0 = p / depthBlock * depthBlock
    return sliverCount * NeuralNetworkGEMM.nr * p0 + (p - p0) * NeuralNetworkGEMM.nr
  }

  /// The distance between two slivers of row `p` (`nr` times the depth of p's K block).
  @inline(__always)
  func sliverStride(_ p: Int) -> Int {
    let p0 = p / depthBlock * depthBlock
    return NeuralNetworkGEMM.nr * min(depthBlock, k - p0)
  }
}

extension NeuralNetworkGEMM {
  /// C += A * B (or C = start + A * B) for A packed by `NeuralNetworkPackedA` and B packed whole
  /// in `layout` at `b`, on up to `threads` threads, each taking a run of B's slivers through
  /// every K block (no thread waits for another). Only for shapes that `isBlocked`: every element
  /// of C is then summed in the order of `multiply` (K block by K block, each block's sum added to
  /// C), so the bits are those of `multiply` on the unpacked operands, on any number of threads.
  /// `finish` is called by each thread with its range of columns once they hold their final values.
  static func multiplyPacked(
    m: Int, a: NeuralNetworkPackedA, b: UnsafePointer<Float>, layout: NeuralNetworkPackedB,
    c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = 1, start: GEMMStart = .accumulate,
    epilogues: GEMMRowEpilogues? = nil, finish: ((Range<Int>) -> Void)? = nil
  ) {
    let (n, k) = (layout.n, layout.k)
    guard m > 0, n > 0, k > 0, a.m == m, a.k == k else { return }
    let slivers = layout.sliverCount
    let workers = max(1, min(threads, slivers, m * n * k / minimumWorkPerThread))
    let body = { (worker: Int) in
      let range = (worker * slivers / workers)..<((worker + 1) * slivers / workers)
      var p0 = 0
      while p0 < k {
        let depth = min(layout.depthBlock, k - p0)
        var i0 = 0
        while i0 < m {
          macroKernel(
            depth: depth, a: a.slivers(firstRow: i0, depthStart: p0, depth: depth), rows: min(mc, m - i0),
            b: b + slivers * nr * p0, slivers: range, width: n, c: c + i0 * ldc, ldc: ldc,
            start: p0 == 0 ? start.rows(from: i0) : nil, epilogues: p0 + depth == k ? epilogues?.rows(from: i0) : nil)
          i0 += mc
        }
        p0 += depth
      }
      let columns = (range.lowerBound * nr)..<min(n, range.upperBound * nr)
      if !columns.isEmpty { finish?(columns) }
    }
    if workers > 1 {
      ParallelWork.perform(iterations: workers, execute: body)
    } else {
      body(0)
    }
  }
}
