import Foundation

/// The 2-D convolution path that skips the Int32 im2col matrix: the im2col writes `x - x_zp` as
/// Float (0 in the padding) straight into the GEMM's packed column panels (`[panel][K][width]`,
/// the last panel's unused lanes zero), the channels split across threads, and the exact Float GEMM of
/// IntegerGemmFloat runs over those panels. Taken only when the operands bound every K block's
/// partial sums below 2^22 (`IntegerGemm.exactFloatBlock`), so the result keeps the int32 bits.
extension IntegerConvolution {
  /// Accumulators of one image and group into `output` ([outputsPerGroup, outputSize]) from the
  /// image's channels at `channels`, the group's Float weights `weights` ([outputsPerGroup, K]),
  /// K blocks of `block`, `panels` a buffer of `panelCapacity(depth:)` Floats whose last panel
  /// is zero.
  func accumulatePanels(
    channels: UnsafePointer<Int32>, xZero: Int32, weights: UnsafePointer<Float>, outputs: Int,
    panels: UnsafeMutablePointer<Float>, block: Int, output: UnsafeMutablePointer<Int32>, threads: Int
  ) {
    let channelsPerGroup = inputChannels / group
    let kernelSize = kernel[0] * kernel[1]
    let inputSize = inputSpatial[0] * inputSpatial[1]
    let outputSize = outputSpatial[0] * outputSpatial[1]
    let depth = channelsPerGroup * kernelSize
    let workers = Swift.max(1, Swift.min(threads, channelsPerGroup))
    let fill = { (worker: Int) in
      for c in (channelsPerGroup * worker / workers)..<(channelsPerGroup * (worker + 1) / workers) {
        im2col2DPanels(channels + c * inputSize, xZero: xZero, firstRow: c * kernelSize, depth: depth, into: panels)
      }
    }
    if workers > 1 {
      DispatchQueue.concurrentPerform(iterations: workers, execute: fill)
    } else {
      fill(0)
    }
    IntegerGemm.floatPanelMultiply(
      weights, panels, output, m: outputs, k: depth, n: outputSize, block: block, threads: threads)
  }

  /// Floats needed for the panels of K = `depth` rows, with the last panel's unused lanes.
  func panelCapacity(depth: Int) -> Int {
    let width = IntegerGemm.FloatLane.scalarCount
    let outputSize = outputSpatial[0] * outputSpatial[1]
    return Swift.max(1, (outputSize + width - 1) / width * width * depth)
  }

  /// `im2col2D` of one channel into rows `firstRow...` of Float panels of K = `depth` rows, a run
  /// of output columns at a time split at the panel edges (zeros in the padding).
  func im2col2DPanels(
    _ channel: UnsafePointer<Int32>, xZero: Int32, firstRow: Int, depth: Int, into panels: UnsafeMutablePointer<Float>
  ) {
    let width = IntegerGemm.FloatLane.scalarCount
    let panelStride = depth * width
    let (inputHeight, inputWidth) = (inputSpatial[0], inputSpatial[1])
    let (outputHeight, outputWidth) = (outputSpatial[0], outputSpatial[1])
    let (strideY, strideX) = (strides[0], strides[1])
    for ky in 0..<kernel[0] {
      for kx in 0..<kernel[1] {
        let row = panels + (firstRow + ky * kernel[1] + kx) * width
        // Output positions `start..<start + count` from `source[j * strideX]`, or zeros.
        @inline(__always) func run(_ start: Int, _ count: Int, _ source: UnsafePointer<Int32>?) {
          var o = start
          var done = 0
          while done < count {
            let lane = o % width
            let length = Swift.min(width - lane, count - done)
            let target = row + (o / width) * panelStride + lane
            if let source {
              if strideX == 1 {
                let segment = source + done
                for j in 0..<length { target[j] = Float(segment[j] &- xZero) }
              } else {
                for j in 0..<length { target[j] = Float(source[(done + j) * strideX] &- xZero) }
              }
            } else {
              target.update(repeating: 0, count: length)
            }
            done += length
            o += length
          }
        }
        let xOffset = kx * dilations[1] - padBegin[1]
        let first = xOffset >= 0 ? 0 : Swift.min(outputWidth, (-xOffset + strideX - 1) / strideX)
        let last = Swift.max(first, Swift.min(outputWidth, (inputWidth - xOffset + strideX - 1) / strideX))
        for oy in 0..<outputHeight {
          let base = oy * outputWidth
          let iy = oy * strideY + ky * dilations[0] - padBegin[0]
          guard iy >= 0, iy < inputHeight else {
            run(base, outputWidth, nil)
            continue
          }
          if first > 0 { run(base, first, nil) }
          if last > first { run(base + first, last - first, channel + iy * inputWidth + xOffset + first * strideX) }
          if last < outputWidth { run(base + last, outputWidth - last, nil) }
        }
      }
    }
  }
}
