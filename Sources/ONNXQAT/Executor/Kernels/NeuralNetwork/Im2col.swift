import Foundation

/// im2col for Conv: lays out every window of a 3-D (D, H, W) image as a column, so that a
/// convolution becomes one matrix product. Row `((c * KD + kd) * KH + kh) * KW + kw`, column
/// `(od * OH + oh) * OW + ow` holds `X[c, od*sd - pd + kd*dd, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw]`,
/// or 0 where that index falls in the padding. Only the output lines (od, oh) in `lines`
/// (`od * OH + oh`) are laid out, so large images can be done a band at a time; channels are
/// split across `threads` threads when the matrix is large. Stride-2 rows are gathered eight
/// columns at a time.
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
    DispatchQueue.concurrentPerform(iterations: threads) { worker in
      let range = (worker * channels / threads)..<((worker + 1) * channels / threads)
      expand(x, channels: range, geometry: g, lines: lines, into: columns)
    }
  }

  private static func expand(
    _ x: UnsafePointer<Float>, channels: Range<Int>, geometry g: WindowGeometry, lines: Range<Int>,
    into columns: UnsafeMutablePointer<Float>
  ) {
    let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
    let (outH, outW) = (g.output[1], g.output[2])
    let outSpatial = lines.count * outW
    var row = channels.lowerBound * g.kernel.reduce(1, *)
    for channel in channels {
      let image = x + channel * inD * inH * inW
      for kd in 0..<g.kernel[0] {
        let rangeD = g.validOutputs(axis: 0, offset: kd * g.dilations[0])
        for kh in 0..<g.kernel[1] {
          let rangeH = g.validOutputs(axis: 1, offset: kh * g.dilations[1])
          for kw in 0..<g.kernel[2] {
            let offsetW = kw * g.dilations[2] - g.padsBegin[2]
            let rangeW = g.validOutputs(axis: 2, offset: kw * g.dilations[2])
            let strideW = g.strides[2]
            for index in lines {
              let od = index / outH
              let oh = index % outH
              let line = columns + row * outSpatial + (index - lines.lowerBound) * outW
              guard rangeD.contains(od), rangeH.contains(oh) else {
                line.update(repeating: 0, count: outW)
                continue
              }
              let id = od * g.strides[0] - g.padsBegin[0] + kd * g.dilations[0]
              let ih = oh * g.strides[1] - g.padsBegin[1] + kh * g.dilations[1]
              let source = image + (id * inH + ih) * inW + offsetW
              if rangeW.lowerBound > 0 { line.update(repeating: 0, count: rangeW.lowerBound) }
              if rangeW.upperBound < outW {
                (line + rangeW.upperBound).update(repeating: 0, count: outW - rangeW.upperBound)
              }
              if strideW == 1 {
                if !rangeW.isEmpty {
                  (line + rangeW.lowerBound).update(from: source + rangeW.lowerBound, count: rangeW.count)
                }
              } else if strideW == 2 {
                copyEvery2nd(from: source, into: line, columns: rangeW)
              } else {
                for ow in rangeW { line[ow] = source[ow * strideW] }
              }
            }
            row += 1
          }
        }
      }
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
