import CIntegerKernels
import Foundation

/// A random 2-D convolution geometry for the im2col kernel tests: kernels 1x1 to 7x7, strides 1
/// to 3 (horizontal from `horizontalStrides`), dilations 1 and 2, pads 0 to 3 on each side,
/// inputs up to 20 x 40, drawn from `next`; nil when the output would be empty.
struct RandomPlaneGeometry: CustomStringConvertible {
  let kernelH: Int
  let kernelW: Int
  let strideH: Int
  let strideW: Int
  let dilationH: Int
  let dilationW: Int
  let height: Int
  let width: Int
  let top: Int
  let left: Int
  let outputH: Int
  let outputW: Int

  init?(_ next: (ClosedRange<Int>) -> Int, horizontalStrides: ClosedRange<Int> = 1...3) {
    (kernelH, kernelW) = (next(1...7), next(1...7))
    (strideH, strideW) = (next(1...3), next(horizontalStrides))
    (dilationH, dilationW) = (next(1...2), next(1...2))
    (height, width) = (next(1...20), next(1...40))
    (top, left) = (next(0...3), next(0...3))
    let (bottom, right) = (next(0...3), next(0...3))
    outputH = (height + top + bottom - dilationH * (kernelH - 1) - 1) / strideH + 1
    outputW = (width + left + right - dilationW * (kernelW - 1) - 1) / strideW + 1
    guard outputH > 0, outputW > 0 else { return nil }
  }

  /// The C kernels' form.
  var geometry: qat_depthwise_geometry {
    qat_depthwise_geometry(
      in_h: Int32(height), in_w: Int32(width), out_h: Int32(outputH), out_w: Int32(outputW),
      kernel_h: Int32(kernelH), kernel_w: Int32(kernelW), stride_h: Int32(strideH), stride_w: Int32(strideW),
      dilation_h: Int32(dilationH), dilation_w: Int32(dilationW), pad_top: Int32(top), pad_left: Int32(left))
  }

  /// The input element under kernel tap `tap` (row-major over the kernel) for output line `oy`,
  /// column `ox` of channel `channel`: its index in planes of `height * width`, or nil in the
  /// padding.
  func inputIndex(channel: Int, tap: Int, oy: Int, ox: Int) -> Int? {
    let iy = oy * strideH + tap / kernelW * dilationH - top
    let ix = ox * strideW + tap % kernelW * dilationW - left
    guard iy >= 0, iy < height, ix >= 0, ix < width else { return nil }
    return (channel * height + iy) * width + ix
  }

  var description: String {
    "kernel \(kernelH)x\(kernelW) strides \(strideH),\(strideW) dilations \(dilationH),\(dilationW) "
      + "in \(height)x\(width) pads \(top),\(left)"
  }
}
