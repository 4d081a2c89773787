import CIntegerKernels
import Foundation

/// The 2-D im2col of one input channel for IntegerConvolution, without a per-element index table:
/// for each kernel tap (ky, kx) and output row, the output columns whose input column falls inside
/// the image are found once (`forEachIm2colSegment`) and copied, contiguously when the stride is 1;
/// the columns in the padding get the padding value. Two element forms share that geometry: int32
/// with the zero point subtracted (padding 0, as the zero point there contributes 0), and bytes as
/// they are (padding the zero point itself).
extension IntegerConvolution {
  /// One output row of one kernel tap: its offset in the rows buffer, the offset in the channel of
  /// the input element under output column 0 (nil when the row lies in the vertical padding), and
  /// the output columns `first..<last` whose input column lies inside the image.
  struct Im2colSegment {
    let target: Int
    let source: Int?
    let first: Int
    let last: Int
  }

  /// Calls `body` for every (kernel tap, output row) of a 2-D im2col, in buffer order.
  func forEachIm2colSegment(_ body: (Im2colSegment) -> Void) {
    let (inputHeight, inputWidth) = (inputSpatial[0], inputSpatial[1])
    let (outputHeight, outputWidth) = (outputSpatial[0], outputSpatial[1])
    let (strideY, strideX) = (strides[0], strides[1])
    let outputSize = outputHeight * outputWidth
    for ky in 0..<kernel[0] {
      for kx in 0..<kernel[1] {
        let row = (ky * kernel[1] + kx) * outputSize
        let xOffset = kx * dilations[1] - padBegin[1]
        let first = xOffset >= 0 ? 0 : Swift.min(outputWidth, (-xOffset + strideX - 1) / strideX)
        let last = Swift.max(first, Swift.min(outputWidth, (inputWidth - xOffset + strideX - 1) / strideX))
        for oy in 0..<outputHeight {
          let iy = oy * strideY + ky * dilations[0] - padBegin[0]
          let inside = iy >= 0 && iy < inputHeight
          body(
            Im2colSegment(
              target: row + oy * outputWidth, source: inside ? iy * inputWidth + xOffset : nil, first: first,
              last: last))
        }
      }
    }
  }

  /// Fills `kernel[0] * kernel[1]` rows of `outputSpatial[0] * outputSpatial[1]` columns at `rows`
  /// from the image `channel` (`inputSpatial`, row-major), `x - xZero` inside and 0 in the padding.
  func im2col2D(_ channel: UnsafePointer<Int32>, xZero: Int32, into rows: UnsafeMutablePointer<Int32>) {
    let outputWidth = outputSpatial[1]
    let strideX = strides[1]
    forEachIm2colSegment { segment in
      let target = rows + segment.target
      guard let start = segment.source else {
        target.update(repeating: 0, count: outputWidth)
        return
      }
      let source = channel + start
      target.update(repeating: 0, count: segment.first)
      if strideX == 1 {
        for ox in segment.first..<segment.last { target[ox] = source[ox] &- xZero }
      } else {
        for ox in segment.first..<segment.last { target[ox] = source[ox * strideX] &- xZero }
      }
      (target + segment.last).update(repeating: 0, count: outputWidth - segment.last)
    }
  }

  /// The im2col rows of one input channel in bytes, for the output positions `columns`: row
  /// `ky * kw + kx`, `rowStride` bytes after the previous one, holds at `column -
  /// columns.lowerBound` the input byte under that kernel tap for output position `column`, or
  /// `padding` outside the image (the C kernel `qat_im2col_u8`, same geometry as
  /// `forEachIm2colSegment`).
  func im2col2DBytes(
    _ channel: UnsafePointer<UInt8>, padding: UInt8, columns: Range<Int>, into rows: UnsafeMutablePointer<UInt8>,
    rowStride: Int
  ) {
    var geometry = geometry2D
    qat_im2col_u8(
      channel, padding, &geometry, Int32(columns.lowerBound), Int32(columns.upperBound), rows, rowStride)
  }
}
