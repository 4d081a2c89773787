import Foundation

/// The fast int32 matrix product behind `IntegerGemm.multiply`: `c[m, n] = sum_k a[m, k] * b[k, n]`
/// with wrapping int32 arithmetic, so any order of the additions gives the same bits as the
/// reference loop (`IntegerGemm.referenceMultiply`).
///
/// B is packed, one `Lane`-wide column panel at a time, into a contiguous `[k][width]` buffer
/// (zero-filled past the last column); a `tileRows` x `width` SIMD micro-kernel broadcasts one
/// element of each of A's rows and multiply-adds it with the panel row into SIMD accumulators
/// (`&*`, `&+`). K is blocked so a packed panel stays in cache; the column panels are split across
/// threads with `ParallelWork.perform` when the product is large. Products with fewer
/// than `tileRows` rows (depthwise convolutions) use SIMD row updates instead; operands small
/// enough for exact Float sums take the FMA path (IntegerGemmFloat).
extension IntegerGemm {
  #if ONNXQAT_AVX2
    /// One row of the micro-kernel's tile: two AVX2 registers.
    typealias Lane = SIMD16<Int32>
  #else
    typealias Lane = SIMD8<Int32>
  #endif
  /// Rows of A per micro-kernel tile.
  static let tileRows = 6
  /// Depth of one K block.
  static let depthBlock = 512

  /// The tiled product, on up to `threads` threads. `c` is overwritten.
  static func multiply(
    _ a: UnsafePointer<Int32>, _ b: UnsafePointer<Int32>, _ c: UnsafeMutablePointer<Int32>, m: Int, k: Int, n: Int,
    threads: Int
  ) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
      c.update(repeating: 0, count: m * n)
      return
    }
    if m < tileRows {
      rowUpdates(a, b, c, m: m, k: k, n: n, threads: threads)
      return
    }
    if let block = exactFloatBlock(a, b, m: m, k: k, n: n) {
      floatMultiply(a, b, c, m: m, k: k, n: n, block: block, threads: threads)
      return
    }
    let width = Lane.scalarCount
    let panels = (n + width - 1) / width
    let workers = m * n * k >= 1 << 17 ? Swift.max(1, Swift.min(threads, panels)) : 1
    let body = { (worker: Int) in
      let first = panels * worker / workers
      let last = panels * (worker + 1) / workers
      let block = Swift.min(k, depthBlock)
      let packed = UnsafeMutablePointer<Int32>.allocate(capacity: block * width)
      let scratch = UnsafeMutablePointer<Int32>.allocate(capacity: m * width)
      defer {
        packed.deallocate()
        scratch.deallocate()
      }
      for panel in first..<last {
        let column = panel * width
        let columns = Swift.min(width, n - column)
        let target = columns == width ? c + column : scratch
        let ldc = columns == width ? n : width
        var start = 0
        while start < k {
          let depth = Swift.min(block, k - start)
          for inner in 0..<depth {
            let source = b + (start + inner) * n + column
            let destination = packed + inner * width
            if columns == width {
              UnsafeMutableRawPointer(destination).storeBytes(
                of: UnsafeRawPointer(source).loadUnaligned(as: Lane.self), as: Lane.self)
            } else {
              for lane in 0..<width { destination[lane] = lane < columns ? source[lane] : 0 }
            }
          }
          var row = 0
          while row < m {
            let rows = Swift.min(tileRows, m - row)
            tile(
              a + row * k + start, lda: k, rows: rows, packed, depth: depth, target + row * ldc, ldc: ldc,
              accumulate: start > 0)
            row += rows
          }
          start += depth
        }
        if columns < width {
          for row in 0..<m { (c + row * n + column).update(from: scratch + row * width, count: columns) }
        }
      }
    }
    if workers > 1 {
      ParallelWork.perform(iterations: workers, execute: body)
    } else {
      body(0)
    }
  }

  /// One `rows` x `width` tile (rows <= tileRows): A rows at `a` (stride `lda`), a packed panel of
  /// `depth` rows, C rows at `c` (stride `ldc`, full `width` columns), added to C when
  /// `accumulate`. Rows past `rows` repeat the last row and are not stored.
  @inline(__always)
  static func tile(
    _ a: UnsafePointer<Int32>, lda: Int, rows: Int, _ panel: UnsafePointer<Int32>, depth: Int,
    _ c: UnsafeMutablePointer<Int32>, ldc: Int, accumulate: Bool
  ) {
    let width = Lane.scalarCount
    let a0 = a
    let a1 = a + Swift.min(1, rows - 1) * lda
    let a2 = a + Swift.min(2, rows - 1) * lda
    let a3 = a + Swift.min(3, rows - 1) * lda
    let a4 = a + Swift.min(4, rows - 1) * lda
    let a5 = a + Swift.min(5, rows - 1) * lda
    var c0 = Lane()
    var c1 = Lane()
    var c2 = Lane()
    var c3 = Lane()
    var c4 = Lane()
    var c5 = Lane()
    let raw = UnsafeRawPointer(panel)
    for inner in 0..<depth {
      let bRow = raw.loadUnaligned(fromByteOffset: inner * width * 4, as: Lane.self)
      c0 &+= Lane(repeating: a0[inner]) &* bRow
      c1 &+= Lane(repeating: a1[inner]) &* bRow
      c2 &+= Lane(repeating: a2[inner]) &* bRow
      c3 &+= Lane(repeating: a3[inner]) &* bRow
      c4 &+= Lane(repeating: a4[inner]) &* bRow
      c5 &+= Lane(repeating: a5[inner]) &* bRow
    }
    @inline(__always) func store(_ value: Lane, _ row: Int) {
      let target = UnsafeMutableRawPointer(c + row * ldc)
      var value = value
      if accumulate { value &+= target.loadUnaligned(as: Lane.self) }
      target.storeBytes(of: value, as: Lane.self)
    }
    store(c0, 0)
    if rows > 1 { store(c1, 1) }
    if rows > 2 { store(c2, 2) }
    if rows > 3 { store(c3, 3) }
    if rows > 4 { store(c4, 4) }
    if rows > 5 { store(c5, 5) }
  }

  /// Few rows: each row of C accumulated as `c[row, :] += a[row, inner] * b[inner, :]` with SIMD
  /// over the columns, the columns split across threads when large.
  static func rowUpdates(
    _ a: UnsafePointer<Int32>, _ b: UnsafePointer<Int32>, _ c: UnsafeMutablePointer<Int32>, m: Int, k: Int, n: Int,
    threads: Int
  ) {
    let width = Lane.scalarCount
    let chunks = (n + width - 1) / width
    let workers = m * n * k >= 1 << 17 ? Swift.max(1, Swift.min(threads, chunks)) : 1
    let body = { (worker: Int) in
      let first = chunks * worker / workers * width
      let last = Swift.min(n, chunks * (worker + 1) / workers * width)
      for row in 0..<m {
        let cRow = c + row * n
        let aRow = a + row * k
        (cRow + first).update(repeating: 0, count: last - first)
        for inner in 0..<k {
          let factor = aRow[inner]
          if factor == 0 { continue }
          addScaled(factor, b + inner * n, into: cRow, from: first, to: last)
        }
      }
    }
    if workers > 1 {
      ParallelWork.perform(iterations: workers, execute: body)
    } else {
      body(0)
    }
  }

  /// `y[i] &+= factor &* x[i]` for `i` in `from..<to`, SIMD then scalar.
  @inline(__always)
  static func addScaled(
    _ factor: Int32, _ x: UnsafePointer<Int32>, into y: UnsafeMutablePointer<Int32>, from: Int, to: Int
  ) {
    let width = Lane.scalarCount
    let scale = Lane(repeating: factor)
    var i = from
    while i + width <= to {
      let target = UnsafeMutableRawPointer(y + i)
      let value = target.loadUnaligned(as: Lane.self) &+ scale &* UnsafeRawPointer(x + i).loadUnaligned(as: Lane.self)
      target.storeBytes(of: value, as: Lane.self)
      i += width
    }
    while i < to {
      y[i] = y[i] &+ factor &* x[i]
      i += 1
    }
  }
}
