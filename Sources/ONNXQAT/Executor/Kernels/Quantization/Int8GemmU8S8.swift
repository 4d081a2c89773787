import CIntegerKernels
import Foundation

/// The u8 x s8 path of Int8Gemm for a uint8 B when every `a - aZero` lies in [-64, 64] (int8
/// weights quantized with a reduced range, as onnxruntime's quantize_static writes them): the C
/// kernel `qat_gemm_panel_u8s8` multiplies raw B bytes by A's int8 values with vpmaddubsw, whose
/// int16 pair sums (at most 255 * 128 = 32,640) cannot saturate, and removes B's zero point
/// through A's row sums: `sum_k a' * (b - bZero) = sum_k a' * b - bZero[n] * sum_k a'` with int32
/// wrap-around, the same bits as the int16-pair path. Four products per int32 lane per step and a
/// packed B panel of bytes instead of int16.
///
/// Skip cases (the int16-pair path runs instead):
/// 1. B is int8;
/// 2. some `a - aZero` lies outside [-64, 64] (found while packing A).
extension Int8Gemm {
  /// Writes the product as `multiply` does and returns true, or returns false in the skip cases
  /// without writing anything.
  static func multiplyU8S8(
    _ a: Operand, aZero: [Int32], _ b: Operand, bZero: [Int32], m: Int, k: Int, n: Int,
    into c: UnsafeMutablePointer<Int32>, ldc: Int, threads: Int
  ) -> Bool {
    guard !b.isSigned else { return false }  // skip 1
    let (m32, k32, n32) = (Int32(m), Int32(k), Int32(n))
    let packedA = UnsafeMutablePointer<Int8>.allocate(capacity: qat_packed_a_quads_count(m32, k32))
    defer { packedA.deallocate() }
    let rowSums = UnsafeMutablePointer<Int32>.allocate(capacity: m)
    defer { rowSums.deallocate() }
    let fits = aZero.withUnsafeBufferPointer { zero in
      qat_pack_a_quads(
        a.base, a.isSigned ? 1 : 0, a.rowStride, m32, k32, zero.baseAddress, aZero.count == 1 ? 0 : 1, packedA,
        rowSums)
    }
    guard fits != 0 else { return false }  // skip 2
    let panelCount = qat_packed_quad_panel_count(k32)
    let bBytes = b.base.assumingMemoryBound(to: UInt8.self)
    bZero.withUnsafeBufferPointer { zero in
      let zeroStride = bZero.count == 1 ? 0 : 1
      forEachPanelRange(m: m, k: k, n: n, threads: threads) { panels in
        let panel = UnsafeMutablePointer<UInt8>.allocate(capacity: panelCount)
        defer { panel.deallocate() }
        for index in panels {
          qat_pack_b_panel_u8(bBytes, b.rowStride, k32, n32, Int32(index), panel)
          qat_gemm_panel_u8s8(
            packedA, rowSums, panel, m32, k32, n32, Int32(index), zero.baseAddress, zeroStride, c, ldc)
        }
      }
    }
    return true
  }
}
