import Foundation

/// The 2-D convolution path that skips the Int32 im2col matrix: the im2col writes `x - x_zp` as
/// Float straight into the GEMM's packed column panels (`[panel][K][width]`, the last panel's
/// unused lanes zero), the channels split across threads, and the exact Float GEMM of
/// IntegerGemmFloat runs over those panels. Taken only when the operands bound every K block's
/// partial sums below 2^22 (`IntegerGemm.exactFloatBlock`), so the result keeps the int32 bits.
extension IntegerConvolution {
  /// Accumulators of one image and group into `output` ([outputsPerGroup, outputSize]) from the
  /// image's channels at `channels`, the group's Float weights `weights` ([outputsPerGroup, K]),
  /// K blocks of `block`, `panels` a buffer of `panelCapacity(k:)` Floats whose tail is zero.
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

  /// `im2col2D` of one channel into rows `firstRow...` of Float panels of K = `depth` rows. Only
  /// the positions inside the image are written, a run of output columns at a time split at the
  /// panel edges: the padding positions depend on the geometry alone and stay zero from the
  /// buffer's initialization.
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
        let xOffset = kx * dilations[1] - padBegin[1]
        let first = xOffset >= 0 ? 0 : Swift.min(outputWidth, (-xOffset + strideX - 1) / strideX)
        let last = Swift.max(first, Swift.min(outputWidth, (inputWidth - xOffset + strideX - 1) / strideX))
        for oy in 0..<outputHeight {
          let iy = oy * strideY + ky * dilations[0] - padBegin[0]
          guard iy >= 0, iy < inputHeight else { continue }
          let source = channel + iy * inputWidth + xOffset
          var o = oy * outputWidth + first
          var ox = first
          while ox < last {
            let lane = o % width
            let count = Swift.min(width - lane, last - ox)
            let target = row + (o / width) * panelStride + lane
            if strideX == 1 {
              let run = source + ox
              for j in 0..<count { target[j] = Float(run[j] &- xZero) }
            } else {
              for j in 0..<count { target[j] = Float(source[(ox + j) * strideX] &- xZero) }
            }
            ox += count
            o += count
          }
        }
      }
    }
  }
}
