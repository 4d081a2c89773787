import CIntegerKernels
import Foundation

/// The u8 x s8 path of Int8Gemm for a uint8 B when every `a - aZero` fits the CPU's instruction
/// level: [-128, 127] with VNNI (vpdpbusd adds four u8 x s8 products into int32 without an int16
/// step), [-64, 64] otherwise (int8 weights quantized with a reduced range, as onnxruntime's
/// quantize_static writes them: vpmaddubsw's int16 pair sums, at most 255 * 128 = 32,640, cannot
/// saturate). The C kernel `qat_gemm_panel_u8s8` multiplies raw B bytes by A's int8 values and removes B's zero point
/// through A's row sums: `sum_k a' * (b - bZero) = sum_k a' * b - bZero[n] * sum_k a'` with int32
/// wrap-around, the same bits as the int16-pair path. Four products per int32 lane per step and a
/// packed B panel of bytes instead of int16.
///
/// Skip cases (the int16-pair path runs instead):
/// 1. B is int8;
/// 2. some `a - aZero` lies outside the level's range (found while packing A).
extension Int8Gemm {
  /// A's packing for the u8 x s8 product: `a - aZero` as int8 quads (`qat_pack_a_quads`), each
  /// row's sum, and whether every value lies in the level's range (false: skip case 2). Made once per
  /// product, or kept across runs for constant weights (PackedIntegerWeights).
  final class QuadPacking {
    let m: Int
    let k: Int
    let packed: [Int8]
    let rowSums: [Int32]
    let fits: Bool

    /// Packs the `m` x `k` operand `a` minus `aZero` (1 or `m` entries).
    init(_ a: Operand, aZero: [Int32], m: Int, k: Int) {
      self.m = m
      self.k = k
      let (m32, k32) = (Int32(m), Int32(k))
      var fits: Int32 = 0
      var rowSums = [Int32](repeating: 0, count: m)
      packed = [Int8](unsafeUninitializedCapacity: qat_packed_a_quads_count(m32, k32)) { buffer, initialized in
        rowSums.withUnsafeMutableBufferPointer { sums in
          aZero.withUnsafeBufferPointer { zero in
            fits = qat_pack_a_quads(
              a.base, a.isSigned ? 1 : 0, a.rowStride, m32, k32, zero.baseAddress, aZero.count == 1 ? 0 : 1,
              buffer.baseAddress, sums.baseAddress)
          }
        }
        initialized = buffer.count
      }
      self.rowSums = rowSums
      self.fits = fits != 0
    }

    /// The bytes the packing holds.
    var byteCount: Int { packed.count + rowSums.count * 4 }
  }

  /// Writes the product as `multiply` does and returns true, or returns false in the skip cases
  /// without writing anything. `packing` is A's packing when the caller keeps one.
  static func multiplyU8S8(
    _ a: Operand, aZero: [Int32], _ b: Operand, bZero: [Int32], m: Int, k: Int, n: Int,
    into c: UnsafeMutablePointer<Int32>, ldc: Int, threads: Int, packing: QuadPacking? = nil
  ) -> Bool {
    guard !b.isSigned else { return false }  // skip 1
    let quads = packing ?? QuadPacking(a, aZero: aZero, m: m, k: k)
    guard quads.fits, quads.m == m, quads.k == k else { return false }  // skip 2
    let (m32, k32, n32) = (Int32(m), Int32(k), Int32(n))
    let panelCount = qat_packed_quad_panel_count(k32)
    let bBytes = b.base.assumingMemoryBound(to: UInt8.self)
    quads.packed.withUnsafeBufferPointer { packedA in
      quads.rowSums.withUnsafeBufferPointer { rowSums in
        bZero.withUnsafeBufferPointer { zero in
          let zeroStride = bZero.count == 1 ? 0 : 1
          forEachPanelRange(m: m, k: k, n: n, threads: threads) { panels in
            let panel = UnsafeMutablePointer<UInt8>.allocate(capacity: panelCount)
            defer { panel.deallocate() }
            for index in panels {
              qat_pack_b_panel_u8(bBytes, b.rowStride, k32, n32, Int32(index), panel)
              qat_gemm_panel_u8s8(
                packedA.baseAddress, rowSums.baseAddress, panel, m32, k32, n32, Int32(index), zero.baseAddress,
                zeroStride, c, ldc)
            }
          }
        }
      }
    }
    return true
  }
}
