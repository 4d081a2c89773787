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
      ParallelWork.perform(iterations: workers, execute: fill)
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

  /// `im2col2D` of one channel into rows `firstRow...` of Float panels of K = `depth` rows: each
  /// kernel tap's row is built row-major in a staging buffer (`x - x_zp`, 0 in the padding and
  /// past the last column), then copied into the panels one SIMD vector per panel.
  func im2col2DPanels(
    _ channel: UnsafePointer<Int32>, xZero: Int32, firstRow: Int, depth: Int, into panels: UnsafeMutablePointer<Float>
  ) {
    let width = IntegerGemm.FloatLane.scalarCount
    let panelStride = depth * width
    let (inputHeight, inputWidth) = (inputSpatial[0], inputSpatial[1])
    let (outputHeight, outputWidth) = (outputSpatial[0], outputSpatial[1])
    let (strideY, strideX) = (strides[0], strides[1])
    let outputSize = outputHeight * outputWidth
    let panelCount = (outputSize + width - 1) / width
    let staging = UnsafeMutablePointer<Float>.allocate(capacity: panelCount * width)
    defer { staging.deallocate() }
    (staging + outputSize).update(repeating: 0, count: panelCount * width - outputSize)
    for ky in 0..<kernel[0] {
      for kx in 0..<kernel[1] {
        let xOffset = kx * dilations[1] - padBegin[1]
        let first = xOffset >= 0 ? 0 : Swift.min(outputWidth, (-xOffset + strideX - 1) / strideX)
        let last = Swift.max(first, Swift.min(outputWidth, (inputWidth - xOffset + strideX - 1) / strideX))
        for oy in 0..<outputHeight {
          let target = staging + oy * outputWidth
          let iy = oy * strideY + ky * dilations[0] - padBegin[0]
          guard iy >= 0, iy < inputHeight else {
            target.update(repeating: 0, count: outputWidth)
            continue
          }
          let source = channel + iy * inputWidth + xOffset
          for ox in 0..<first { target[ox] = 0 }
          if strideX == 1 {
            for ox in first..<last { target[ox] = Float(source[ox] &- xZero) }
          } else {
            for ox in first..<last { target[ox] = Float(source[ox * strideX] &- xZero) }
          }
          for ox in last..<outputWidth { target[ox] = 0 }
        }
        let row = UnsafeMutableRawPointer(panels + (firstRow + ky * kernel[1] + kx) * width)
        let stagingRaw = UnsafeRawPointer(staging)
        for panel in 0..<panelCount {
          row.storeBytes(
            of: stagingRaw.loadUnaligned(fromByteOffset: panel * width * 4, as: IntegerGemm.FloatLane.self),
            toByteOffset: panel * panelStride * 4, as: IntegerGemm.FloatLane.self)
        }
      }
    }
  }
}
