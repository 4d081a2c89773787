import CIntegerKernels
import Foundation

/// im2col for Conv: lays out every window of a 3-D (D, H, W) image as a column, so that a
/// convolution becomes one matrix product. Row `((c * KD + kd) * KH + kh) * KW + kw`, column
/// `(od * OH + oh) * OW + ow` holds `X[c, od*sd - pd + kd*dd, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw]`,
/// or 0 where that index falls in the padding. Only the output lines (od, oh) in `lines`
/// (`od * OH + oh`) are laid out, so large images can be done a band at a time; channels are
/// split across `threads` threads when the matrix is large. Stride-2 rows are gathered eight
/// columns at a time. `expandPacked` writes the same values in the GEMM's packed layout.
enum Im2col {
  static func expand(
    _ x: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry, lines: Range<Int>,
    into columns: UnsafeMutablePointer<Float>, threads: Int = 1
  ) {
    let size = channels * g.kernel.reduce(1, *) * lines.count * g.output[2]
    guard threads > 1, channels >= 2 * threads, size >= 1 << 16 else {
      expand(x, channels: 0..<channels, geometry: g, lines: lines, into: columns)
      return
    }
    ParallelWork.perform(iterations: threads) { worker in
      let range = (worker * channels / threads)..<((worker + 1) * channels / threads)
      expand(x, channels: range, geometry: g, lines: lines, into: columns)
    }
  }

  /// The same columns written straight into the packed layout of the GEMM's right operand
  /// (`NeuralNetworkPackedB`, k = channels x kernel volume, n = the lines' columns), so that B
  /// is written once instead of laid out and then packed: up to `rowGroup` rows at a time (as
  /// many as fit in `groupFloats`, so that the scratch stays in the L1 cache; at least one) are
  /// laid out in scratch rows (zero-padded to whole slivers) and copied sliver by sliver, the
  /// group's rows of a sliver one after the other (adjacent in the packed layout within a K
  /// block), so that the copy writes runs of several x `nr` floats rather than `nr` floats a
  /// sliver apart. The values are those of `expand`, moved. A 2-D convolution goes to the C
  /// kernel instead where it runs (`expandPackedVector`), with the same values.
  static func expandPacked(
    _ x: UnsafePointer<Float>, channels: Int, geometry g: WindowGeometry, lines: Range<Int>,
    into packed: UnsafeMutablePointer<Float>, layout: NeuralNetworkPackedB, threads: Int = 1
  ) {
    let plane = DepthwiseConv.planeGeometry(g)
    if expandPackedVector(
      x, channels: channels, plane: plane, lines: lines, into: packed, layout: layout, threads: threads)
    {
      return
    }
    let work = { (range: Range<Int>) in
      let nr = NeuralNetworkGEMM.nr
      let rowLength = layout.sliverCount * nr
      let group = max(1, min(rowGroup, groupFloats / rowLength))
      let lease = ThreadScratch.lease(ThreadScratch.im2colRow, count: group * rowLength)
      defer { lease.release() }
      let scratch = lease.pointer
      scratch.initialize(repeating: 0, count: group * rowLength)
      // Where each pending row's first sliver goes, and the distance between its slivers.
      var offsets = [Int](repeating: 0, count: group)
      var strides = offsets
      var pending = 0
      func flush() {
        guard pending > 0 else { return }
        if strides[0] == strides[pending - 1] && offsets[pending - 1] == offsets[0] + (pending - 1) * nr {
          // The rows are consecutive rows of one K block: in every sliver, one run of
          // `pending` x `nr` floats.
          let (first, stride) = (offsets[0], strides[0])
          for sliver in 0..<layout.sliverCount {
            var source = UnsafeRawPointer(scratch + sliver * nr)
            var target = UnsafeMutableRawPointer(packed + first + sliver * stride)
            for _ in 0..<pending {
              target.storeBytes(of: source.load(as: NeuralNetworkGEMM.Row.self), as: NeuralNetworkGEMM.Row.self)
              source += rowLength * MemoryLayout<Float>.stride
              target += nr * MemoryLayout<Float>.stride
            }
          }
          pending = 0
          return
        }
        for sliver in 0..<layout.sliverCount {
          var source = UnsafeRawPointer(scratch + sliver * nr)
          for index in 0..<pending {
            let target = packed + offsets[index] + sliver * strides[index]
            UnsafeMutableRawPointer(target).storeBytes(
              of: source.load(as: NeuralNetworkGEMM.Row.self), as: NeuralNetworkGEMM.Row.self)
            source += rowLength * MemoryLayout<Float>.stride
          }
        }
        pending = 0
      }
      forEachRow(x, channels: range, geometry: g) { row, image, tap in
        expandRow(image, geometry: g, tap: tap, lines: lines, into: scratch + pending * rowLength)
        offsets[pending] = layout.rowOffset(row)
        strides[pending] = layout.sliverStride(row)
        pending += 1
        if pending == group { flush() }
      }
      flush()
    }
    let size = layout.count
    guard threads > 1, channels >= 2 * threads, size >= 1 << 16 else {
      work(0..<channels)
      return
    }
    ParallelWork.perform(iterations: threads) { worker in
      work((worker * channels / threads)..<((worker + 1) * channels / threads))
    }
  }

  /// `expandPacked` by the C kernel `qat_im2col_packed_f32` (AVX-512: each sliver's 16 values of
  /// a row one masked load, no scratch rows) for a 2-D plane geometry `plane` with horizontal
  /// stride 1 or 2 and 16-column slivers: the same values; false, nothing written, elsewhere. The
  /// slivers are split across `threads` threads when the operand is large.
  private static func expandPackedVector(
    _ x: UnsafePointer<Float>, channels: Int, plane: qat_depthwise_geometry?, lines: Range<Int>,
    into packed: UnsafeMutablePointer<Float>, layout: NeuralNetworkPackedB, threads: Int = 1
  ) -> Bool {
    guard NeuralNetworkGEMM.nr == 16, var plane, qat_im2col_packed_f32_vector(&plane) != 0 else { return false }
    let slivers = layout.sliverCount
    let workers = threads > 1 && slivers >= 2 * threads && layout.count >= 1 << 16 ? threads : 1
    let fill = { (worker: Int) in
      var geometry = plane
      _ = qat_im2col_packed_f32(
        x, Int32(channels), &geometry, Int32(lines.lowerBound), Int32(lines.count), Int32(layout.depthBlock),
        Int32(slivers * worker / workers), Int32(slivers * (worker + 1) / workers), packed)
    }
    if workers > 1 {
      ParallelWork.perform(iterations: workers, execute: fill)
    } else {
      fill(0)
    }
    return true
  }

  /// The most rows `expandPacked` lays out before copying them into the packed layout.
  static let rowGroup = 8
  /// The most floats of those rows (16 KiB).
  static let groupFloats = 4096

  private static func expand(
    _ x: UnsafePointer<Float>, channels: Range<Int>, geometry g: WindowGeometry, lines: Range<Int>,
    into columns: UnsafeMutablePointer<Float>
  ) {
    let outSpatial = lines.count * g.output[2]
    forEachRow(x, channels: channels, geometry: g) { row, image, tap in
      expandRow(image, geometry: g, tap: tap, lines: lines, into: columns + row * outSpatial)
    }
  }

  /// One kernel tap (kd, kh, kw) and the output indices along each axis whose input lies inside
  /// the image (`WindowGeometry.validOutputs`).
  private struct Tap {
    let kd: Int
    let kh: Int
    let kw: Int
    let rangeD: Range<Int>
    let rangeH: Range<Int>
    let rangeW: Range<Int>
  }

  /// Calls `body(row, image, tap)` for every row of the channels `channels`, in order (`image`
  /// is the channel's input); the taps' valid ranges are worked out once.
  @inline(__always)
  private static func forEachRow(
    _ x: UnsafePointer<Float>, channels: Range<Int>, geometry g: WindowGeometry,
    _ body: (Int, UnsafePointer<Float>, Tap) -> Void
  ) {
    var taps: [Tap] = []
    taps.reserveCapacity(g.kernel.reduce(1, *))
    for kd in 0..<g.kernel[0] {
      let rangeD = g.validOutputs(axis: 0, offset: kd * g.dilations[0])
      for kh in 0..<g.kernel[1] {
        let rangeH = g.validOutputs(axis: 1, offset: kh * g.dilations[1])
        for kw in 0..<g.kernel[2] {
          let rangeW = g.validOutputs(axis: 2, offset: kw * g.dilations[2])
          taps.append(Tap(kd: kd, kh: kh, kw: kw, rangeD: rangeD, rangeH: rangeH, rangeW: rangeW))
        }
      }
    }
    var row = channels.lowerBound * taps.count
    let volume = g.input.reduce(1, *)
    for channel in channels {
      let image = x + channel * volume
      for tap in taps {
        body(row, image, tap)
        row += 1
      }
    }
  }

  /// One row of the columns, kernel tap `tap` of one channel's `image`, for the lines `lines`:
  /// `lines.count * OW` floats into `row`.
  @inline(__always)
  private static func expandRow(
    _ image: UnsafePointer<Float>, geometry g: WindowGeometry, tap: Tap, lines: Range<Int>,
    into row: UnsafeMutablePointer<Float>
  ) {
    let (inH, inW) = (g.input[1], g.input[2])
    let (outH, outW) = (g.output[1], g.output[2])
    let rangeW = tap.rangeW
    let offsetW = tap.kw * g.dilations[2] - g.padsBegin[2]
    let strideW = g.strides[2]
    // (od, oh) of line `index`, stepped rather than divided out per line.
    var od = lines.lowerBound / outH
    var oh = lines.lowerBound % outH - 1
    for index in lines {
      oh += 1
      if oh == outH {
        oh = 0
        od += 1
      }
      let line = row + (index - lines.lowerBound) * outW
      guard tap.rangeD.contains(od), tap.rangeH.contains(oh), !rangeW.isEmpty else {
        zero(line, 0..<outW)
        continue
      }
      let id = od * g.strides[0] - g.padsBegin[0] + tap.kd * g.dilations[0]
      let ih = oh * g.strides[1] - g.padsBegin[1] + tap.kh * g.dilations[1]
      let source = image + (id * inH + ih) * inW + offsetW
      zero(line, 0..<rangeW.lowerBound)
      zero(line, rangeW.upperBound..<outW)
      if strideW == 1 {
        copy(from: source, into: line, columns: rangeW)
      } else if strideW == 2 {
        copyEvery2nd(from: source, into: line, columns: rangeW)
      } else {
        for ow in rangeW { line[ow] = source[ow * strideW] }
      }
    }
  }

  /// line[columns] = 0, inline (the runs are short: padding, or one output line).
  @inline(__always)
  private static func zero(_ line: UnsafeMutablePointer<Float>, _ columns: Range<Int>) {
    var ow = columns.lowerBound
    while ow + 8 <= columns.upperBound {
      UnsafeMutableRawPointer(line + ow).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
      ow += 8
    }
    while ow < columns.upperBound {
      line[ow] = 0
      ow += 1
    }
  }

  /// line[ow] = source[ow] for ow in `columns`, eight at a time, inline (a row of one output
  /// line is too short for a memmove call to pay); a tail of fewer than eight columns is the
  /// last eight columns copied again (the overlapping ones get the same values), not a scalar loop.
  @inline(__always)
  private static func copy(
    from source: UnsafePointer<Float>, into line: UnsafeMutablePointer<Float>, columns: Range<Int>
  ) {
    var ow = columns.lowerBound
    while ow + 8 <= columns.upperBound {
      let values = UnsafeRawPointer(source + ow).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(line + ow).storeBytes(of: values, as: SIMD8<Float>.self)
      ow += 8
    }
    if ow < columns.upperBound && columns.count >= 8 {
      let last = columns.upperBound - 8
      let values = UnsafeRawPointer(source + last).loadUnaligned(as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(line + last).storeBytes(of: values, as: SIMD8<Float>.self)
      return
    }
    while ow < columns.upperBound {
      line[ow] = source[ow]
      ow += 1
    }
  }

  /// line[ow] = source[2 * ow] for ow in `columns`, eight at a time from 16 loaded floats while
  /// the last one loaded (`2 * ow + 15`) is below the last one read (`2 * (upperBound - 1)`).
  @inline(__always)
  private static func copyEvery2nd(
    from source: UnsafePointer<Float>, into line: UnsafeMutablePointer<Float>, columns: Range<Int>
  ) {
    var ow = columns.lowerBound
    while ow + 8 < columns.upperBound {
      let values = UnsafeRawPointer(source + 2 * ow).loadUnaligned(as: SIMD16<Float>.self).evenHalf
      UnsafeMutableRawPointer(line + ow).storeBytes(of: values, as: SIMD8<Float>.self)
      ow += 8
    }
    while ow < columns.upperBound {
      line[ow] = source[2 * ow]
      ow += 1
    }
  }
}
