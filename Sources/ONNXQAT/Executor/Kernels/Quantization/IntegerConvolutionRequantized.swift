import CIntegerKernels
import Foundation

/// QLinearConv's 8-bit path with the requantization fused into the u8 x s8 GEMM's store
/// (`qat_gemm_panel_u8s8_requantized`): each 16-column panel's accumulators are requantized while
/// in registers and stored as output bytes, so no int32 accumulator matrix is written or read
/// back. Same operations as the unfused path (the exact int32 product, then RequantizationVector's
/// kernel per channel with its bias), so the same bytes.
///
/// The threads split the output columns (16-column panels), and each builds the im2col columns of
/// its own panels just before multiplying them: with AVX-512 each panel straight from the input
/// planes into the packed layout (`qat_im2col_panel_u8`), else a block of panels at a time into
/// im2col rows that are then packed; no thread reads columns
/// another one wrote, which on a VM whose two processors share no cache cost more than the
/// product (resnet_block_qlinear at 2 threads: 2.2 -> 1.9 ms there).
///
/// Skip cases (QLinearConv's unfused path runs instead):
/// 1. not 2-D, or depthwise (the depthwise kernel requantizes its planes itself);
/// 2. x not uint8 or w not 8-bit (the u8 x s8 product needs raw uint8 B);
/// 3. some channel's requantization is not one the vector kernel takes (no AVX2, a range outside
///    the output type, ...);
/// 4. some group's `w - w_zp` leaves the u8 x s8 product's range ([-128, 127] with VNNI, [-64, 64]
///    without; the product would not be exact).
extension IntegerConvolution {
  /// Writes the requantized output ([N, M, outputSize] bytes at `output`, int8 when
  /// `outputSigned`) with channel `m`'s parameters `rows[m]`, and returns true; false (nothing
  /// written) in the skip cases.
  func requantized8Bit(
    x: HostTensor, xZero: Int32, w: HostTensor, wZero: [Int32], threads: Int, packing: PackedIntegerWeights?,
    rows: [qat_requantization], outputSigned: Bool, output: UnsafeMutableRawPointer
  ) -> Bool {
    let channelsPerGroup = inputChannels / group
    let outputsPerGroup = outputChannels / group
    guard kernel.count == 2, channelsPerGroup > 1 || outputsPerGroup > 1 else { return false }  // skip 1
    guard x.dataType == .uint8, Int8Gemm.accepts(w.dataType) else { return false }  // skip 2
    let supported = rows.allSatisfy { row in
      withUnsafePointer(to: row) { qat_requantize_int8_supported($0, outputSigned ? 1 : 0) != 0 }
    }
    guard supported, rows.count == outputChannels else { return false }  // skip 3
    let kernelSize = kernel[0] * kernel[1]
    let depth = channelsPerGroup * kernelSize
    let packings = (0..<group).map { g in
      packing?.packed(w, wZero: wZero, group: g, groups: group, m: outputsPerGroup, k: depth)
        ?? PackedIntegerWeights.pack(w, wZero: wZero, group: g, m: outputsPerGroup, k: depth)
    }
    guard packings.allSatisfy(\.fits) else { return false }  // skip 4
    let inputSize = inputSpatial[0] * inputSpatial[1]
    let outputSize = outputSpatial[0] * outputSpatial[1]
    let pointwise = isPointwise
    let padding = UInt8(truncatingIfNeeded: xZero)
    let xBytes = UnsafeRawPointer(x.pointer(UInt8.self))
    let (m32, k32, n32) = (Int32(outputsPerGroup), Int32(depth), Int32(outputSize))
    let panelWidth = Int(QAT_PANEL_COLUMNS)
    let panelCount = qat_packed_quad_panel_count(k32)
    var geometry = geometry2D
    // The panels straight from the planes (qat_im2col_panel_u8) where that has a vector path, else
    // through blocks of im2col columns.
    let direct = !pointwise && qat_im2col_panel_u8_vector(&geometry) != 0
    let blockPanels =
      pointwise || direct
      ? Swift.max(1, (outputSize + panelWidth - 1) / panelWidth)
      : Swift.max(1, Self.columnBlockBytes / (depth * panelWidth))
    let signed: Int32 = outputSigned ? 1 : 0
    withExtendedLifetime(x) {
      for image in 0..<batch {
        for g in 0..<group {
          let planes = xBytes + (image * inputChannels + g * channelsPerGroup) * inputSize
          let first = image * outputChannels + g * outputsPerGroup
          let target = output.assumingMemoryBound(to: UInt8.self) + first * outputSize
          let quads = packings[g]
          withUnsafePointer(to: xZero) { zero in
            quads.packed.withUnsafeBufferPointer { packedA in
              quads.rowSums.withUnsafeBufferPointer { rowSums in
                rows.withUnsafeBufferPointer { parameters in
                  guard let groupRows = parameters.baseAddress.map({ $0 + g * outputsPerGroup }) else { return }
                  // Each thread builds the im2col columns of its own panels, a panel or a block of
                  // panels at a time (about columnBlockBytes), and multiplies them while they are in
                  // its cache.
                  Int8Gemm.forEachPanelRange(m: outputsPerGroup, k: depth, n: outputSize, threads: threads) { range in
                    let panel = UnsafeMutablePointer<UInt8>.allocate(capacity: panelCount)
                    defer { panel.deallocate() }
                    let block = pointwise || direct ? 1 : depth * Swift.min(range.count, blockPanels) * panelWidth
                    var panelGeometry = geometry
                    let lease = ThreadScratch.lease(ThreadScratch.byteColumns, count: (block + 3) / 4)
                    defer { lease.release() }
                    let columns = UnsafeMutableRawPointer(lease.pointer).assumingMemoryBound(to: UInt8.self)
                    for start in stride(from: range.lowerBound, to: range.upperBound, by: blockPanels) {
                      let panels = start..<Swift.min(range.upperBound, start + blockPanels)
                      let span = (start * panelWidth)..<Swift.min(outputSize, panels.upperBound * panelWidth)
                      if !pointwise && !direct {
                        im2colBytes(
                          planes, padding: padding, channels: 0..<channelsPerGroup, columns: span, into: columns,
                          rowStride: span.count)
                      }
                      for index in panels {
                        if pointwise {
                          qat_pack_b_panel_u8(
                            planes.assumingMemoryBound(to: UInt8.self), inputSize, k32, n32, Int32(index), panel)
                        } else if direct {
                          qat_im2col_panel_u8(
                            planes.assumingMemoryBound(to: UInt8.self), Int32(channelsPerGroup), padding,
                            &panelGeometry, Int32(index), panel)
                        } else {
                          qat_pack_b_panel_u8(
                            columns, span.count, k32, Int32(span.count), Int32(index - start), panel)
                        }
                        qat_gemm_panel_u8s8_requantized(
                          packedA.baseAddress, rowSums.baseAddress, panel, m32, k32, n32, Int32(index), zero, 0,
                          groupRows, signed, target, outputSize)
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return true
  }

  /// Bytes of im2col columns a thread builds at a time before multiplying them: about half an L2
  /// cache (smaller blocks cost more in im2col's per-row set-up than they gain).
  static let columnBlockBytes = 512 * 1024
}
