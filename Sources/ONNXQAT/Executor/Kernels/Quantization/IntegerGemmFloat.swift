import Foundation

/// The exact float path of the int32 GEMM: when every partial sum of a K block is an integer of
/// magnitude below 2^22 (`block * max|a| * max|b| < 2^22`), Float products and fused
/// multiply-adds are exact, so the block's Float sums converted to Int32 (through the bits of
/// `sum + 1.5 * 2^23`, exact below 2^22) and added with int32 wrap
/// give the same bits as the integer loop — with FMA's 16 multiply-adds per instruction instead
/// of `vpmulld`'s 8 at twice the cost. A is converted to Float once; B is packed and converted one
/// `Lane`-wide column panel and one K block at a time; a `tileRows` x `width` FMA micro-kernel
/// accumulates each tile, whose Float sums are then added into C as Int32.
extension IntegerGemm {
  #if ONNXQAT_AVX2
    /// One row of the float micro-kernel's tile, as wide as `Lane`.
    typealias FloatLane = SIMD16<Float>
  #else
    typealias FloatLane = SIMD8<Float>
  #endif

  /// The largest K block for which the float path is exact for these operands, or nil when it
  /// would be shorter than 16 (or larger than `depthBlock`, capped).
  static func exactFloatBlock(_ a: UnsafePointer<Int32>, _ b: UnsafePointer<Int32>, m: Int, k: Int, n: Int) -> Int? {
    var maxA: UInt32 = 0
    for i in 0..<(m * k) { maxA = Swift.max(maxA, a[i].magnitude) }
    var maxB: UInt32 = 0
    for i in 0..<(k * n) { maxB = Swift.max(maxB, b[i].magnitude) }
    let product = UInt64(maxA) * UInt64(maxB)
    if product == 0 { return Swift.min(k, depthBlock) }
    let block = ((UInt64(1) << 22) - 1) / product
    return block >= 16 ? Int(Swift.min(block, UInt64(depthBlock))) : nil
  }

  /// `c = a * b` through Float K blocks of at most `block` (see the type's note), on up to
  /// `threads` threads split by column panels. `c` is overwritten.
  static func floatMultiply(
    _ a: UnsafePointer<Int32>, _ b: UnsafePointer<Int32>, _ c: UnsafeMutablePointer<Int32>, m: Int, k: Int, n: Int,
    block: Int, threads: Int
  ) {
    let width = FloatLane.scalarCount
    let aFloat = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
    defer { aFloat.deallocate() }
    for i in 0..<(m * k) { aFloat[i] = Float(a[i]) }
    let panels = (n + width - 1) / width
    let workers = m * n * k >= 1 << 17 ? Swift.max(1, Swift.min(threads, panels)) : 1
    let body = { (worker: Int) in
      let first = panels * worker / workers
      let last = panels * (worker + 1) / workers
      let packed = UnsafeMutablePointer<Float>.allocate(capacity: block * width)
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
              let values = UnsafeRawPointer(source).loadUnaligned(as: Lane.self)
              UnsafeMutableRawPointer(destination).storeBytes(of: FloatLane(values), as: FloatLane.self)
            } else {
              for lane in 0..<width { destination[lane] = lane < columns ? Float(source[lane]) : 0 }
            }
          }
          var row = 0
          while row < m {
            let rows = Swift.min(tileRows, m - row)
            floatTile(
              aFloat + row * k + start, lda: k, rows: rows, packed, depth: depth, target + row * ldc, ldc: ldc,
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

  /// One `rows` x `width` tile of exact Float sums over a packed panel of `depth` rows, stored
  /// into (or, when `accumulate`, added with int32 wrap to) the Int32 rows at `c`.
  @inline(__always)
  static func floatTile(
    _ a: UnsafePointer<Float>, lda: Int, rows: Int, _ panel: UnsafePointer<Float>, depth: Int,
    _ c: UnsafeMutablePointer<Int32>, ldc: Int, accumulate: Bool
  ) {
    let width = FloatLane.scalarCount
    let a0 = a
    let a1 = a + Swift.min(1, rows - 1) * lda
    let a2 = a + Swift.min(2, rows - 1) * lda
    let a3 = a + Swift.min(3, rows - 1) * lda
    let a4 = a + Swift.min(4, rows - 1) * lda
    let a5 = a + Swift.min(5, rows - 1) * lda
    var c0 = FloatLane()
    var c1 = FloatLane()
    var c2 = FloatLane()
    var c3 = FloatLane()
    var c4 = FloatLane()
    var c5 = FloatLane()
    let raw = UnsafeRawPointer(panel)
    for inner in 0..<depth {
      let bRow = raw.loadUnaligned(fromByteOffset: inner * width * 4, as: FloatLane.self)
      c0.addProduct(FloatLane(repeating: a0[inner]), bRow)
      c1.addProduct(FloatLane(repeating: a1[inner]), bRow)
      c2.addProduct(FloatLane(repeating: a2[inner]), bRow)
      c3.addProduct(FloatLane(repeating: a3[inner]), bRow)
      c4.addProduct(FloatLane(repeating: a4[inner]), bRow)
      c5.addProduct(FloatLane(repeating: a5[inner]), bRow)
    }
    let magic: Float = 12_582_912
    let magicBits = Lane(repeating: Int32(bitPattern: magic.bitPattern))
    @inline(__always) func store(_ value: FloatLane, _ row: Int) {
      let target = UnsafeMutableRawPointer(c + row * ldc)
      var integers = unsafeBitCast(value + FloatLane(repeating: magic), to: Lane.self) &- magicBits
      if accumulate { integers &+= target.loadUnaligned(as: Lane.self) }
      target.storeBytes(of: integers, as: Lane.self)
    }
    store(c0, 0)
    if rows > 1 { store(c1, 1) }
    if rows > 2 { store(c2, 2) }
    if rows > 3 { store(c3, 3) }
    if rows > 4 { store(c4, 4) }
    if rows > 5 { store(c5, 5) }
  }

  /// `c = a * b` with A already Float and B already in Float panels (`[panel][k][width]`, the
  /// last panel's unused lanes zero), K blocks of at most `block`, on up to `threads` threads.
  static func floatPanelMultiply(
    _ a: UnsafePointer<Float>, _ panels: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Int32>, m: Int, k: Int,
    n: Int, block: Int, threads: Int
  ) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
      c.update(repeating: 0, count: m * n)
      return
    }
    let width = FloatLane.scalarCount
    let count = (n + width - 1) / width
    let workers = m * n * k >= 1 << 17 ? Swift.max(1, Swift.min(threads, count)) : 1
    // A packed as [tile][k][tileRows], rows past m repeating the last row.
    let tiles = (m + tileRows - 1) / tileRows
    let packedA = UnsafeMutablePointer<Float>.allocate(capacity: tiles * k * tileRows)
    defer { packedA.deallocate() }
    for tile in 0..<tiles {
      for r in 0..<tileRows {
        let source = a + Swift.min(tile * tileRows + r, m - 1) * k
        let target = packedA + tile * k * tileRows + r
        for inner in 0..<k { target[inner * tileRows] = source[inner] }
      }
    }
    let body = { (worker: Int) in
      let scratch = UnsafeMutablePointer<Int32>.allocate(capacity: m * width)
      defer { scratch.deallocate() }
      for panel in (count * worker / workers)..<(count * (worker + 1) / workers) {
        let column = panel * width
        let columns = Swift.min(width, n - column)
        let target = columns == width ? c + column : scratch
        let ldc = columns == width ? n : width
        let packed = panels + panel * k * width
        var start = 0
        while start < k {
          let depth = Swift.min(block, k - start)
          var row = 0
          while row < m {
            let rows = Swift.min(tileRows, m - row)
            floatTilePacked(
              packedA + (row * k + start * tileRows), rows: rows, packed + start * width, depth: depth,
              target + row * ldc, ldc: ldc, accumulate: start > 0)
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

  /// `floatTile` with A packed as `[depth][tileRows]` (one contiguous stream of broadcasts).
  @inline(__always)
  static func floatTilePacked(
    _ a: UnsafePointer<Float>, rows: Int, _ panel: UnsafePointer<Float>, depth: Int,
    _ c: UnsafeMutablePointer<Int32>, ldc: Int, accumulate: Bool
  ) {
    let width = FloatLane.scalarCount
    var c0 = FloatLane()
    var c1 = FloatLane()
    var c2 = FloatLane()
    var c3 = FloatLane()
    var c4 = FloatLane()
    var c5 = FloatLane()
    let raw = UnsafeRawPointer(panel)
    var pa = a
    for inner in 0..<depth {
      let bRow = raw.loadUnaligned(fromByteOffset: inner * width * 4, as: FloatLane.self)
      c0.addProduct(FloatLane(repeating: pa[0]), bRow)
      c1.addProduct(FloatLane(repeating: pa[1]), bRow)
      c2.addProduct(FloatLane(repeating: pa[2]), bRow)
      c3.addProduct(FloatLane(repeating: pa[3]), bRow)
      c4.addProduct(FloatLane(repeating: pa[4]), bRow)
      c5.addProduct(FloatLane(repeating: pa[5]), bRow)
      pa += 6
    }
    let magic: Float = 12_582_912
    let magicBits = Lane(repeating: Int32(bitPattern: magic.bitPattern))
    @inline(__always) func store(_ value: FloatLane, _ row: Int) {
      let target = UnsafeMutableRawPointer(c + row * ldc)
      var integers = unsafeBitCast(value + FloatLane(repeating: magic), to: Lane.self) &- magicBits
      if accumulate { integers &+= target.loadUnaligned(as: Lane.self) }
      target.storeBytes(of: integers, as: Lane.self)
    }
    store(c0, 0)
    if rows > 1 { store(c1, 1) }
    if rows > 2 { store(c2, 2) }
    if rows > 3 { store(c3, 3) }
    if rows > 4 { store(c4, 4) }
    if rows > 5 { store(c5, 5) }
  }
}
