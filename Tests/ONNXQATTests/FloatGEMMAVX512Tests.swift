import CIntegerKernels
import Foundation
import XCTest

/// The three paths of the float GEMM's C macro-kernel (`qat_gemm_float_block`: AVX-512, AVX2 +
/// FMA, portable) against each other and against a plain loop with the same summation order,
/// bit for bit, on random shapes: rows, columns and depths from 1 to 70 (so partial 6-row tiles,
/// partial 16-column slivers, odd and even runs of slivers that the AVX-512 path takes two at a
/// time, and runs starting at an odd sliver), C row strides wider than the block, accumulating
/// and overwriting (with and without start values), and values that include negative zero,
/// subnormals, large magnitudes (sums that overflow), infinities and NaN. The packing's padding
/// rows of A and columns of B hold NaN here (the packing leaves zeros), so a path that let a
/// padding lane reach C would fail. On a CPU without AVX-512 (or AVX2) the comparisons of that
/// path are skipped.
final class FloatGEMMAVX512Tests: XCTestCase {
  private let rowsPerTile = Int(QAT_FLOAT_TILE_ROWS)
  private let columnsPerSliver = Int(QAT_FLOAT_TILE_COLUMNS)

  override func tearDown() {
    qat_gemm_float_set_level(QAT_GEMM_FLOAT_AVX512)
    super.tearDown()
  }

  func testAVX512PathEqualsAVX2AndPortablePathsAndThePlainLoop() throws {
    try XCTSkipUnless(runs(QAT_GEMM_FLOAT_AVX512), "this CPU has no AVX-512: the AVX-512 path does not run")
    try compare(levels: [QAT_GEMM_FLOAT_PORTABLE, QAT_GEMM_FLOAT_AVX2, QAT_GEMM_FLOAT_AVX512], seed: 0x5EED_0512)
  }

  func testAVX2PathEqualsPortablePathAndThePlainLoop() throws {
    try XCTSkipUnless(runs(QAT_GEMM_FLOAT_AVX2), "this CPU has no AVX2 + FMA: the AVX2 path does not run")
    try compare(levels: [QAT_GEMM_FLOAT_PORTABLE, QAT_GEMM_FLOAT_AVX2], seed: 0x5EED_0002)
  }

  /// Whether `qat_gemm_float_block` takes path `level` when allowed to.
  private func runs(_ level: Int32) -> Bool {
    qat_gemm_float_set_level(level)
    defer { qat_gemm_float_set_level(QAT_GEMM_FLOAT_AVX512) }
    return qat_gemm_float_level() == level
  }

  /// Random blocks, each multiplied on every path of `levels` and by the plain loop.
  private func compare(levels: [Int32], seed: UInt64) throws {
    var random = RandomBlocks(bits: SplitMix(seed: seed))
    for trial in 0..<400 {
      let rows = 1 + random.below(70)
      let width = 1 + random.below(70)
      let depth = 1 + random.below(70)
      let slivers = (width + columnsPerSliver - 1) / columnsPerSliver
      let first = random.below(slivers)
      let end = first + 1 + random.below(slivers - first)
      let ldc = width + random.below(8)
      // Ordinary values, then with large magnitudes, then with infinities and NaN.
      let kind = trial % 3
      let paddedRows = (rows + rowsPerTile - 1) / rowsPerTile * rowsPerTile
      var a = [Float](repeating: .nan, count: paddedRows * depth)
      for row in 0..<rows {
        for p in 0..<depth {
          a[row / rowsPerTile * rowsPerTile * depth + p * rowsPerTile + row % rowsPerTile] = random.value(kind)
        }
      }
      var b = [Float](repeating: .nan, count: slivers * columnsPerSliver * depth)
      for column in 0..<width {
        for p in 0..<depth {
          b[column / columnsPerSliver * columnsPerSliver * depth + p * columnsPerSliver + column % columnsPerSliver] =
            random.value(kind)
        }
      }
      let initial = (0..<(rows * ldc)).map { _ in random.value(kind) }
      let start = (0..<rows).map { _ in random.value(kind) }
      for (overwrite, withStart) in [(false, false), (true, true), (true, false)] {
        let expected = FloatGEMMBlockReference.result(
          a, b, depth: depth, rows: rows, width: width, slivers: first..<end, c: initial, ldc: ldc,
          start: overwrite ? (withStart ? start : Array(repeating: 0, count: rows)) : nil)
        for level in levels {
          qat_gemm_float_set_level(level)
          XCTAssertEqual(qat_gemm_float_level(), level)
          var c = initial
          a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
              start.withUnsafeBufferPointer { ps in
                c.withUnsafeMutableBufferPointer { pc in
                  qat_gemm_float_block(
                    Int32(depth), pa.baseAddress, Int32(rows), pb.baseAddress, Int32(first), Int32(end),
                    Int32(width), pc.baseAddress, ldc, overwrite ? 1 : 0, withStart ? ps.baseAddress : nil)
                }
              }
            }
          }
          let shape =
            "rows \(rows), width \(width), depth \(depth), slivers \(first)..<\(end), ldc \(ldc), "
            + "overwrite \(overwrite), start \(withStart), values \(kind)"
          let mismatch = (0..<c.count).first { !Self.same(c[$0], expected[$0]) }
          XCTAssertNil(
            mismatch,
            "level \(level), \(shape): element \(mismatch ?? -1) is \(mismatch.map { c[$0] } ?? 0), expected "
              + "\(mismatch.map { expected[$0] } ?? 0)")
          if mismatch != nil { return }
        }
      }
    }
  }

  /// The same bits, or both NaN: which payload a sum of several NaNs carries depends on the
  /// operand order the compiler picks for each path's add and fused multiply-add (IEEE 754 leaves
  /// it open), and it picks differently at -O2: in release builds the AVX-512 and AVX2 paths
  /// return different payloads for the same NaN inputs (seen: 0xffd1b340 against 0xffd501c7).
  private static func same(_ x: Float, _ y: Float) -> Bool {
    x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN)
  }
}

/// Seeded random shapes and values (bits from the tests' `SplitMix`).
private struct RandomBlocks {
  var bits: SplitMix

  mutating func next() -> UInt64 { bits.next() }

  /// 0 ..< bound.
  mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

  /// Mostly values in [-2, 2) with full 24-bit significands (so that summing in another order
  /// changes the bits), some negative or positive zeros and subnormals; with `kind` 1, also 1 in
  /// 64 large magnitudes (2^97 to 2^127: products and sums that overflow), with `kind` 2, also 1 in
  /// 64 infinities or NaN (quiet, with random payloads).
  mutating func value(_ kind: Int) -> Float {
    let sign: Float = next() & 1 == 0 ? 1 : -1
    switch below(64) {
    case 0: return sign * 0
    case 1: return sign * Float(bitPattern: UInt32(1 + below(0x7F_FFFF)))
    case 2 where kind == 1: return sign * Float(bitPattern: UInt32(0x7000_0000 + below(0x0F00_0000)))
    case 2 where kind == 2:
      if next() & 1 == 0 { return sign * .infinity }
      let payload = UInt32(below(0x40_0000))
      return Float(bitPattern: (sign < 0 ? 0xFFC0_0000 : 0x7FC0_0000) | payload)
    default: return sign * Float(next() >> 40) / Float(1 << 23)
    }
  }
}
