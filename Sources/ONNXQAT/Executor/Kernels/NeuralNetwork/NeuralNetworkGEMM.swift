import CIntegerKernels
import Foundation

/// A strided float32 matrix operand: element (i, j) is at `base[i * rowStride + j * columnStride]`
/// (a transposed operand is the same memory with the strides swapped).
struct NeuralNetworkMatrix {
  let base: UnsafePointer<Float>
  let rowStride: Int
  let columnStride: Int

  init(_ base: UnsafePointer<Float>, rowStride: Int, columnStride: Int = 1) {
    self.base = base
    self.rowStride = rowStride
    self.columnStride = columnStride
  }

  init(_ base: UnsafeMutablePointer<Float>, rowStride: Int, columnStride: Int = 1) {
    self.init(UnsafePointer(base), rowStride: rowStride, columnStride: columnStride)
  }

  /// The transpose (no copy).
  var transposed: NeuralNetworkMatrix {
    NeuralNetworkMatrix(base, rowStride: columnStride, columnStride: rowStride)
  }
}

/// The one float32 matrix product of the neural-network kernels (MatMul, Gemm, Conv,
/// ConvTranspose, Einsum, the recurrent ops):
///
///     C[m, n] += alpha * sum_k A[m, k] * B[k, n]
///
/// with any strides on A and B (transposes included) and a row stride on C, or, with a
/// `GEMMStart.overwrite` start, `C[m, n] = start[m] + alpha * sum_k ...` without reading C (the
/// first K block's tile sums are added to the row's start value and stored, so the bits are
/// those of filling C with the start values and accumulating). Large products are
/// blocked for the caches as in BLIS (K in blocks of `kc`, N in blocks of `nc`, M in blocks of
/// `mc`), A and B are packed into `mr`-row and `nr`-column slivers, and a register-tiled
/// `mr` x `nr` SIMD micro-kernel accumulates each tile; the tiles of one block are split across
/// threads with `ParallelWork.perform` when the product is large. A product whose A is
/// small enough (`columnSplitLimit`) and B wide enough is split by columns only
/// (`multiplyByColumns`: one dispatch, each thread packing its own part of B). Small products and
/// matrix-vector products take direct loops. Every element of C is summed in the same order
/// whatever the split and the thread count, so the results do not depend on `threads`.
///
/// The tile is 6 x 8 (12 SSE registers of accumulators), which is what a plain `-O` build for
/// x86-64 can hold. Built with `-D ONNXQAT_AVX2` and `-Xcc -mavx2 -Xcc -mfma`, the tile is
/// 6 x 16 (12 AVX registers), the accumulation uses fused multiply-add, and the macro-kernel is
/// the C one (`qat_gemm_float_block`: the same loop in intrinsics, which also prefetches each
/// tile's C rows, and on a CPU with AVX-512 takes two slivers of B at a time in zmm registers,
/// chosen at run time); the Swift one (`swiftMacroKernel`) gives the same bits.
enum NeuralNetworkGEMM {
  #if ONNXQAT_AVX2
    typealias Row = SIMD16<Float>
  #else
    typealias Row = SIMD8<Float>
  #endif
  static let mr = 6
  static let nr = Row.scalarCount
  static let kc = 256
  static let mc = 120
  static let nc = 2048

  /// C += alpha * A * B (or C = start + alpha * A * B, see `GEMMStart`), where A is m x k, B is
  /// k x n and C is m x n with row stride `ldc`. `finish` (a fused epilogue) is called with
  /// ranges of columns covering `0..<n` once each, as soon as every row of those columns holds
  /// its final value: by each thread for its own columns when the product is split by columns,
  /// else once for all of them at the end. `epilogues` (one per row of C) are applied to each
  /// tile of the last K block as it is stored, before `finish` (see `GEMMRowEpilogues`).
  static func multiply(
    m: Int, n: Int, k: Int, alpha: Float = 1, a: NeuralNetworkMatrix, b: NeuralNetworkMatrix,
    c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = 1, packed: NeuralNetworkPackedA? = nil,
    start: GEMMStart = .accumulate, epilogues: GEMMRowEpilogues? = nil, finish: ((Range<Int>) -> Void)? = nil
  ) {
    guard m > 0, n > 0 else { return }
    // A packing made for another shape is not used.
    let packed = packed.flatMap { $0.m == m && $0.k == k && alpha == 1 ? $0 : nil }
    if !isBlocked(m: m, n: n, k: k) {
      start.fill(c, ldc: ldc, rows: 0..<m, columns: 0..<n)
      if k > 0 { direct(m: m, n: n, k: k, alpha: alpha, a: a, b: b, c: c, ldc: ldc) }
      epilogues?.apply(c, ldc: ldc, rows: 0..<m, columns: 0..<n)
      finish?(0..<n)
      return
    }
    // At least `minimumWorkPerThread` multiply-adds per thread (a dispatch costs a few microseconds).
    let workers = max(1, min(threads, m * n * k / minimumWorkPerThread))
    if workers > 1 && (n + nr - 1) / nr >= 2 * workers && m * k <= columnSplitLimit {
      multiplyByColumns(
        m: m, n: n, k: k, a: packed ?? NeuralNetworkPackedA(a, m: m, k: k, alpha: alpha), b: b, c: c, ldc: ldc,
        workers: workers, start: start, epilogues: epilogues, finish: finish)
      return
    }
    // Equal blocks no larger than `kc` and `nc` (576 = 2 x 288, not 256 + 256 + 64).
    let depthBlock = depthBlock(k)
    let widthBlock = (n + (n + nc - 1) / nc - 1) / ((n + nc - 1) / nc)
    // Equal row blocks of whole slivers, no larger than `mc`.
    let rowBlocks = (m + mc - 1) / mc
    let rowBlock = ((m + rowBlocks - 1) / rowBlocks + mr - 1) / mr * mr
    let bSlivers = (widthBlock + nr - 1) / nr
    // A is packed a chunk of row blocks at a time, which bounds its buffer for tall matrices.
    let chunkBlocks = max(8, 4 * workers)
    let chunkRows = chunkBlocks * rowBlock
    let aSlivers = (min(m, chunkRows) + mr - 1) / mr
    // Both from this thread's scratch (kept from call to call, no page faults on every run).
    let leaseB = ThreadScratch.lease(ThreadScratch.packedB, count: bSlivers * nr * depthBlock)
    let leaseA = ThreadScratch.lease(ThreadScratch.packedA, count: packed == nil ? aSlivers * mr * depthBlock : 1)
    defer {
      leaseB.release()
      leaseA.release()
    }
    let (packedB, packedA) = (leaseB.pointer, leaseA.pointer)
    var j0 = 0
    while j0 < n {
      let width = min(widthBlock, n - j0)
      var p0 = 0
      while p0 < k {
        let depth = min(depthBlock, k - p0)
        let columnSlivers = (width + nr - 1) / nr
        if workers > 1 && columnSlivers >= 2 * workers {
          ParallelWork.perform(iterations: workers) { worker in
            let first = worker * columnSlivers / workers
            let end = (worker + 1) * columnSlivers / workers
            packB(b, rows: p0, depth: depth, columns: j0, width: width, slivers: first..<end, into: packedB)
          }
        } else {
          packB(b, rows: p0, depth: depth, columns: j0, width: width, slivers: 0..<columnSlivers, into: packedB)
        }
        var r0 = 0
        while r0 < m {
          let chunk = min(chunkRows, m - r0)
          let chunkA = NeuralNetworkMatrix(
            a.base + r0 * a.rowStride, rowStride: a.rowStride, columnStride: a.columnStride)
          let chunkPacked: UnsafePointer<Float>
          if let packed {
            chunkPacked = packed.slivers(firstRow: r0, depthStart: p0, depth: depth)
          } else {
            packA(chunkA, alpha: alpha, rowCount: chunk, columns: p0, depth: depth, into: packedA)
            chunkPacked = UnsafePointer(packedA)
          }
          // Tasks: blocks of rows times groups of column slivers.
          let blocks = (chunk + rowBlock - 1) / rowBlock
          let columnGroups = workers > 1 ? max(1, min(columnSlivers, (workers * 4 + blocks - 1) / blocks)) : 1
          let tasks = blocks * columnGroups
          let body = { (task: Int) in
            let block = task / columnGroups
            let group = task % columnGroups
            let i0 = block * rowBlock
            macroKernel(
              depth: depth, a: chunkPacked + (i0 / mr) * mr * depth, rows: min(rowBlock, chunk - i0), b: packedB,
              slivers: (group * columnSlivers / columnGroups)..<((group + 1) * columnSlivers / columnGroups),
              width: width, c: c + (r0 + i0) * ldc + j0, ldc: ldc, start: p0 == 0 ? start.rows(from: r0 + i0) : nil,
              epilogues: p0 + depth == k ? epilogues?.rows(from: r0 + i0) : nil)
          }
          if workers > 1 && tasks > 1 {
            ParallelWork.perform(iterations: tasks, execute: body)
          } else {
            for task in 0..<tasks { body(task) }
          }
          r0 += chunk
        }
        p0 += depth
      }
      j0 += width
    }
    finish?(0..<n)
  }

  /// Whether a product of this shape takes the packed, blocked paths (whose per-element order of
  /// summation `multiplyPacked` shares) rather than the direct loops of small products.
  static func isBlocked(m: Int, n: Int, k: Int) -> Bool {
    k > 0 && m * n * k > 4096 && m >= 3 && n >= 4
  }

  /// The fewest multiply-adds (about 10 microseconds) worth giving a thread of its own.
  static let minimumWorkPerThread = 1 << 18

  /// The most floats of A for which a product split across threads takes `multiplyByColumns`
  /// (A packed whole, 4 MiB).
  static let columnSplitLimit = 1 << 20

  /// A product split across `workers` threads by columns only: A (packed whole, every K block)
  /// is shared, each thread takes an equal run of B's column slivers and, K block by K block,
  /// packs its own part of B and multiplies every row of A by it (`mc` rows at a time). One dispatch per product, and
  /// no thread waits for another's packing (the row-and-column split of `multiply` packs B in
  /// one dispatch and multiplies in a second, per K block).
  private static func multiplyByColumns(
    m: Int, n: Int, k: Int, a: NeuralNetworkPackedA, b: NeuralNetworkMatrix, c: UnsafeMutablePointer<Float>,
    ldc: Int, workers: Int, start: GEMMStart, epilogues: GEMMRowEpilogues?, finish: ((Range<Int>) -> Void)?
  ) {
    let slivers = (n + nr - 1) / nr
    let depthBlock = depthBlock(k)
    ParallelWork.perform(iterations: workers) { worker in
      let first = worker * slivers / workers * nr
      let end = min(n, (worker + 1) * slivers / workers * nr)
      guard first < end else { return }
      let widest = (min(end - first, nc) + nr - 1) / nr * nr
      let lease = ThreadScratch.lease(ThreadScratch.packedB, count: widest * depthBlock)
      defer { lease.release() }
      let packedB = lease.pointer
      var j0 = first
      while j0 < end {
        let width = min(nc, end - j0)
        let bSlivers = (width + nr - 1) / nr
        var p0 = 0
        while p0 < k {
          let depth = min(depthBlock, k - p0)
          packB(b, rows: p0, depth: depth, columns: j0, width: width, slivers: 0..<bSlivers, into: packedB)
          // Blocks of `mc` rows, so that the block of A in use stays in the L2 cache.
          var i0 = 0
          while i0 < m {
            macroKernel(
              depth: depth, a: a.slivers(firstRow: i0, depthStart: p0, depth: depth), rows: min(mc, m - i0),
              b: packedB, slivers: 0..<bSlivers, width: width, c: c + i0 * ldc + j0, ldc: ldc,
              start: p0 == 0 ? start.rows(from: i0) : nil, epilogues: p0 + depth == k ? epilogues?.rows(from: i0) : nil)
            i0 += mc
          }
          p0 += depth
        }
        j0 += width
      }
      finish?(first..<end)
    }
  }

  /// C[0 ..< rows, columns of `slivers`] += packed A slivers (`rows` rows from `a`) * packed B
  /// slivers `slivers` (of a block `width` columns wide), B sliver by B sliver; with `start`, C
  /// is written (row i gets `start` value i plus its sums) instead of added to; with `epilogues`
  /// (the last K block only), each stored tile's row i then takes epilogue i.
  @inline(__always)
  static func macroKernel(
    depth: Int, a: UnsafePointer<Float>, rows: Int, b: UnsafePointer<Float>, slivers: Range<Int>, width: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, start: GEMMRowStart?, epilogues: GEMMRowEpilogues? = nil
  ) {
    #if ONNXQAT_AVX2
      // The same tiles, in C with AVX2 + FMA or AVX-512 intrinsics (`qat_gemm_float_block_epilogue`).
      qat_gemm_float_block_epilogue(
        Int32(depth), a, Int32(rows), b, Int32(slivers.lowerBound), Int32(slivers.upperBound), Int32(width), c, ldc,
        start == nil ? 0 : 1, start?.values, epilogues?.values)
    #else
      swiftMacroKernel(
        depth: depth, a: a, rows: rows, b: b, slivers: slivers, width: width, c: c, ldc: ldc, start: start,
        epilogues: epilogues)
    #endif
  }

  /// `macroKernel` in Swift SIMD (the tile's accumulation fused only when built for AVX2 + FMA).
  @inline(__always)
  static func swiftMacroKernel(
    depth: Int, a: UnsafePointer<Float>, rows: Int, b: UnsafePointer<Float>, slivers: Range<Int>, width: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int, start: GEMMRowStart?, epilogues: GEMMRowEpilogues? = nil
  ) {
    for sliver in slivers {
      let j = sliver * nr
      let columns = min(nr, width - j)
      let pb = b + sliver * nr * depth
      var i = 0
      while i < rows {
        microKernel(
          depth: depth, a: a + (i / mr) * mr * depth, b: pb, c: c + i * ldc + j, ldc: ldc, rows: min(mr, rows - i),
          columns: columns, start: start?.rows(from: i))
        epilogues?.apply(c + j, ldc: ldc, rows: i..<min(rows, i + mr), columns: 0..<columns)
        i += mr
      }
    }
  }

  /// The depth of the K blocks of a product of depth `k`: equal blocks no larger than `kc`.
  static func depthBlock(_ k: Int) -> Int {
    (k + (k + kc - 1) / kc - 1) / ((k + kc - 1) / kc)
  }

  /// Small products, few rows, or few columns: SIMD row updates over the rows of B when B's
  /// rows are contiguous, SIMD dot products when A's rows and B's columns are, strided loops
  /// otherwise.
  private static func direct(
    m: Int, n: Int, k: Int, alpha: Float, a: NeuralNetworkMatrix, b: NeuralNetworkMatrix,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    if b.columnStride == 1 && !(a.columnStride == 1 && b.rowStride == 1 && n < 8) {
      for i in 0..<m {
        let row = c + i * ldc
        for p in 0..<k {
          let scale = alpha * a.base[i * a.rowStride + p * a.columnStride]
          if scale == 0 { continue }
          axpy(scale, b.base + p * b.rowStride, row, n)
        }
      }
    } else if a.columnStride == 1 && b.rowStride == 1 {
      for i in 0..<m {
        let row = a.base + i * a.rowStride
        for j in 0..<n { c[i * ldc + j] += alpha * dot(row, b.base + j * b.columnStride, k) }
      }
    } else {
      for i in 0..<m {
        for j in 0..<n {
          var sum: Float = 0
          var pa = a.base + i * a.rowStride
          var pb = b.base + j * b.columnStride
          for _ in 0..<k {
            sum += pa.pointee * pb.pointee
            pa += a.columnStride
            pb += b.rowStride
          }
          c[i * ldc + j] += alpha * sum
        }
      }
    }
  }

  /// y[0..<count] += scale * x[0..<count].
  @inline(__always)
  private static func axpy(_ scale: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
    let factor = SIMD8<Float>(repeating: scale)
    var i = 0
    while i + 8 <= count {
      let target = UnsafeMutableRawPointer(y + i)
      let value = target.loadUnaligned(as: SIMD8<Float>.self)
      target.storeBytes(
        of: value + factor * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
      i += 8
    }
    while i < count {
      y[i] += scale * x[i]
      i += 1
    }
  }

  /// sum_i x[i] * y[i] with two SIMD accumulators.
  @inline(__always)
  static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Float {
    var s0 = SIMD8<Float>()
    var s1 = SIMD8<Float>()
    var i = 0
    let px = UnsafeRawPointer(x)
    let py = UnsafeRawPointer(y)
    while i + 16 <= count {
      s0 +=
        px.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        * py.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
      s1 +=
        px.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
        * py.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
      i += 16
    }
    if i + 8 <= count {
      s0 +=
        px.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        * py.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
      i += 8
    }
    var sum = (s0 + s1).sum()
    while i < count {
      sum += x[i] * y[i]
      i += 1
    }
    return sum
  }

  /// Packs B[rows ..< rows+depth, columns ..< columns+width] into slivers of `nr` columns,
  /// each `depth` x `nr` row-major, zero-padded on the right (the slivers in `slivers` only).
  static func packB(
    _ b: NeuralNetworkMatrix, rows: Int, depth: Int, columns: Int, width: Int, slivers: Range<Int>,
    into packed: UnsafeMutablePointer<Float>
  ) {
    for sliver in slivers {
      let j = sliver * nr
      let cols = min(nr, width - j)
      let target = packed + sliver * nr * depth
      let origin = b.base + rows * b.rowStride + (columns + j) * b.columnStride
      if cols == nr && b.columnStride == 1 {
        for p in 0..<depth {
          let source = UnsafeRawPointer(origin + p * b.rowStride).loadUnaligned(as: Row.self)
          UnsafeMutableRawPointer(target + p * nr).storeBytes(of: source, as: Row.self)
        }
      } else if b.rowStride == 1 && cols == nr {
        // A transposed B: depth rows, each gathered from the `nr` columns (contiguous writes).
        for p in 0..<depth {
          let row = target + p * nr
          for jj in 0..<nr { row[jj] = origin[jj * b.columnStride + p] }
        }
      } else {
        for p in 0..<depth {
          let source = origin + p * b.rowStride
          for jj in 0..<nr { target[p * nr + jj] = jj < cols ? source[jj * b.columnStride] : 0 }
        }
      }
    }
  }

  /// Packs alpha * A[0 ..< rowCount, columns ..< columns+depth] into slivers of `mr` rows, each
  /// `depth` x `mr` (column-major within the sliver), zero-padded at the bottom.
  static func packA(
    _ a: NeuralNetworkMatrix, alpha: Float, rowCount: Int, columns: Int, depth: Int,
    into packed: UnsafeMutablePointer<Float>
  ) {
    var sliver = 0
    var i = 0
    while i < rowCount {
      let rows = min(mr, rowCount - i)
      let target = packed + sliver * mr * depth
      if rows == mr && a.columnStride == 1 {
        // A whole sliver, k ascending: each packed row of `mr` values written contiguously.
        let source = a.base + i * a.rowStride + columns
        let stride = a.rowStride
        for p in 0..<depth {
          let row = target + p * mr
          for ii in 0..<mr { row[ii] = alpha * source[ii * stride + p] }
        }
        sliver += 1
        i += mr
        continue
      }
      for ii in 0..<mr {
        if ii < rows {
          let source = a.base + (i + ii) * a.rowStride + columns * a.columnStride
          if a.columnStride == 1 {
            for p in 0..<depth { target[p * mr + ii] = alpha * source[p] }
          } else {
            for p in 0..<depth { target[p * mr + ii] = alpha * source[p * a.columnStride] }
          }
        } else {
          for p in 0..<depth { target[p * mr + ii] = 0 }
        }
      }
      sliver += 1
      i += mr
    }
  }

  /// One `mr` x `nr` tile: C[tile] += packed A sliver * packed B sliver over `depth` (with
  /// `start`, C[tile] = start value of the row + the sums); `rows` and `columns` clip the tile
  /// at the matrix edges.
  @inline(__always)
  private static func microKernel(
    depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
    rows: Int, columns: Int, start: GEMMRowStart?
  ) {
    var c0 = Row()
    var c1 = Row()
    var c2 = Row()
    var c3 = Row()
    var c4 = Row()
    var c5 = Row()
    var pa = a
    var pb = UnsafeRawPointer(b)
    for _ in 0..<depth {
      let bv = pb.load(as: Row.self)
      multiplyAdd(&c0, pa[0], bv)
      multiplyAdd(&c1, pa[1], bv)
      multiplyAdd(&c2, pa[2], bv)
      multiplyAdd(&c3, pa[3], bv)
      multiplyAdd(&c4, pa[4], bv)
      multiplyAdd(&c5, pa[5], bv)
      pa += 6
      pb += MemoryLayout<Row>.stride
    }
    if columns == nr {
      @inline(__always) func store(_ row: Int, _ value: Row) {
        let target = UnsafeMutableRawPointer(c + row * ldc)
        if let start {
          target.storeBytes(of: Row(repeating: start.value(row)) + value, as: Row.self)
        } else {
          target.storeBytes(of: target.loadUnaligned(as: Row.self) + value, as: Row.self)
        }
      }
      store(0, c0)
      if rows > 1 { store(1, c1) }
      if rows > 2 { store(2, c2) }
      if rows > 3 { store(3, c3) }
      if rows > 4 { store(4, c4) }
      if rows > 5 { store(5, c5) }
    } else {
      @inline(__always) func store(_ row: Int, _ value: Row) {
        guard row < rows else { return }
        let target = c + row * ldc
        if let start {
          let first = start.value(row)
          for column in 0..<columns { target[column] = first + value[column] }
        } else {
          for column in 0..<columns { target[column] += value[column] }
        }
      }
      store(0, c0)
      store(1, c1)
      store(2, c2)
      store(3, c3)
      store(4, c4)
      store(5, c5)
    }
  }

  /// accumulator += a * b (fused when built for AVX2 + FMA).
  @inline(__always)
  private static func multiplyAdd(_ accumulator: inout Row, _ a: Float, _ b: Row) {
    #if ONNXQAT_AVX2
      accumulator.addProduct(Row(repeating: a), b)
    #else
      accumulator += Row(repeating: a) * b
    #endif
  }
}
