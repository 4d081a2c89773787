import Foundation

/// The 2-D im2col of one input channel for IntegerConvolution, without a per-element index table:
/// for each kernel tap (ky, kx) and output row, the output columns whose input column falls inside
/// the image are found once, copied (contiguously when the stride is 1) with the zero point
/// subtracted, and the columns in the padding set to zero, as the zero point there contributes 0.
extension IntegerConvolution {
  /// Fills `kernel[0] * kernel[1]` rows of `outputSpatial[0] * outputSpatial[1]` columns at `rows`
  /// from the image `channel` (`inputSpatial`, row-major), `x - xZero` inside and 0 in the padding.
  func im2col2D(_ channel: UnsafePointer<Int32>, xZero: Int32, into rows: UnsafeMutablePointer<Int32>) {
    let (inputHeight, inputWidth) = (inputSpatial[0], inputSpatial[1])
    let (outputHeight, outputWidth) = (outputSpatial[0], outputSpatial[1])
    let (strideY, strideX) = (strides[0], strides[1])
    let outputSize = outputHeight * outputWidth
    for ky in 0..<kernel[0] {
      for kx in 0..<kernel[1] {
        let row = rows + (ky * kernel[1] + kx) * outputSize
        let xOffset = kx * dilations[1] - padBegin[1]
        let first = xOffset >= 0 ? 0 : Swift.min(outputWidth, (-xOffset + strideX - 1) / strideX)
        let last = Swift.max(first, Swift.min(outputWidth, (inputWidth - xOffset + strideX - 1) / strideX))
        for oy in 0..<outputHeight {
          let target = row + oy * outputWidth
          let iy = oy * strideY + ky * dilations[0] - padBegin[0]
          guard iy >= 0, iy < inputHeight else {
            target.update(repeating: 0, count: outputWidth)
            continue
          }
          let source = channel + iy * inputWidth + xOffset
          for ox in 0..<first { target[ox] = 0 }
          if strideX == 1 {
            for ox in first..<last { target[ox] = source[ox] &- xZero }
          } else {
            for ox in first..<last { target[ox] = source[ox * strideX] &- xZero }
          }
          for ox in last..<outputWidth { target[ox] = 0 }
        }
      }
    }
  }
}
