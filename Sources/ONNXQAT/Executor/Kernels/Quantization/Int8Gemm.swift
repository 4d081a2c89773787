import CIntegerKernels
import Foundation

/// The exact 8-bit matrix product behind QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger
/// and QGemm: `c[m, n] = sum_k (a[m, k] - aZero[m]) * (b[k, n] - bZero[n])` in int32, for int8 or
/// uint8 operands (u8 x s8, s8 x s8, u8 x u8, ...).
///
/// Both differences lie in [-255, 255], so they are packed as int16 (the zero points subtracted
/// while packing, once per element of each operand, never per multiply-add): A into tiles of
/// `QAT_TILE_ROWS` rows as k-pairs, B one `QAT_PANEL_COLUMNS`-wide column panel at a time as
/// k-pairs. The micro-kernel (the C target CIntegerKernels: AVX2 `vpmaddwd`, which Swift's SIMD
/// types do not produce) multiplies a pair of int16 by a pair and adds both products into one
/// int32 lane: |pair sum| <= 2 * 255 * 255, far from saturation, so every sum is the exact int32
/// sum of the reference loop (`IntegerGemm.referenceMultiply`) whenever that sum does not wrap;
/// int32 wrap-around of the full sum needs K above 33,000 and is reproduced as well, the kernel
/// adding with int32 wrap. Column panels are split across threads; each worker packs the panel
/// it is about to multiply, so the panel is still in cache. A uint8 B takes the u8 x s8 quad
/// product instead (Int8GemmU8S8) when A's values fit its instruction level: [-64, 64] for AVX2
/// vpmaddubsw, [-128, 127] for VNNI vpdpbusd (`qat_u8s8_level`).
enum Int8Gemm {
  /// An 8-bit operand in memory: its first element, signedness and row stride in elements.
  struct Operand {
    let base: UnsafeRawPointer
    let isSigned: Bool
    let rowStride: Int
  }

  /// True for the element types this product takes.
  static func accepts(_ type: DataType) -> Bool { type == .int8 || type == .uint8 }

  /// Writes the `m` x `n` product into `c` (row stride `ldc`). `aZero` has 1 or `m` entries,
  /// `bZero` 1 or `n`; `packing`, when given, is A's u8 x s8 packing (QuadPacking) kept by the caller.
  static func multiply(
    _ a: Operand, aZero: [Int32], _ b: Operand, bZero: [Int32], m: Int, k: Int, n: Int,
    into c: UnsafeMutablePointer<Int32>, ldc: Int, threads: Int, packing: QuadPacking? = nil
  ) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
      for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) }
      return
    }
    if multiplyU8S8(
      a, aZero: aZero, b, bZero: bZero, m: m, k: k, n: n, into: c, ldc: ldc, threads: threads, packing: packing)
    {
      return
    }
    let (m32, k32, n32) = (Int32(m), Int32(k), Int32(n))
    let packedA = UnsafeMutablePointer<Int16>.allocate(capacity: qat_packed_a_count(m32, k32))
    defer { packedA.deallocate() }
    aZero.withUnsafeBufferPointer { zero in
      qat_pack_a(
        a.base, a.isSigned ? 1 : 0, a.rowStride, m32, k32, zero.baseAddress, aZero.count == 1 ? 0 : 1, packedA)
    }
    let panelCount = qat_packed_panel_count(k32)
    bZero.withUnsafeBufferPointer { zero in
      let zeroStride = bZero.count == 1 ? 0 : 1
      forEachPanelRange(m: m, k: k, n: n, threads: threads) { panels in
        let panel = UnsafeMutablePointer<Int16>.allocate(capacity: panelCount)
        defer { panel.deallocate() }
        for index in panels {
          qat_pack_b_panel(
            b.base, b.isSigned ? 1 : 0, b.rowStride, k32, n32, zero.baseAddress, zeroStride, Int32(index), panel)
          qat_gemm_panel(packedA, panel, m32, k32, n32, Int32(index), c, ldc)
        }
      }
    }
  }

  /// Calls `body` with contiguous ranges of the `QAT_PANEL_COLUMNS`-wide column panels of an
  /// `m` x `k` x `n` product: one range per thread when the product has at least 2^16
  /// multiply-adds, else one range.
  static func forEachPanelRange(m: Int, k: Int, n: Int, threads: Int, body: (Range<Int>) -> Void) {
    let panels = (n + Int(QAT_PANEL_COLUMNS) - 1) / Int(QAT_PANEL_COLUMNS)
    let workers = m * n * k >= 1 << 16 ? Swift.max(1, Swift.min(threads, panels)) : 1
    if workers == 1 {
      body(0..<panels)
      return
    }
    ParallelWork.perform(iterations: workers) { worker in
      body((panels * worker / workers)..<(panels * (worker + 1) / workers))
    }
  }
}
