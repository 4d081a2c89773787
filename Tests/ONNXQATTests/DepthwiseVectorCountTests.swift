import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The vector paths of the float depthwise plane (`qat_depthwise_plane_f32`) sum eight (AVX2) or
/// sixteen (AVX-512, rows at least sixteen wide) output columns per vector, eight vectors side by side taken row after row (the last vector of a row moved back to
/// end at its last column, rows narrower than eight through a buffer), over a zero-padded copy
/// whose stride-2 rows are split into even and odd columns eight at a time. Each must equal the
/// portable loop (checked against the stated semantics by `DepthwiseConvKernelTests`) bit for bit
/// for every row width: inputs 8 to 80 wide and four wider than eight 16-column vectors, at strides 1 and 2, 3x3 and 5x5 kernels, pads 0 to
/// 2, so that every count of vectors side by side, every overlap of a row's last vector and
/// every split of a row into vectors and single columns occurs. Exact comparisons: both paths do
/// the same float operations in the same order for each element.
final class DepthwiseVectorCountTests: XCTestCase {
  func testEveryInteriorWidthEqualsThePortableLoopBitForBit() {
    var numbers = SeededFloats(state: 5)
    var checked = 0
    for stride in [1, 2] {
      for kernel in [3, 5] {
        for pad in 0...2 {
          for width in Array(8...80) + [129, 143, 200, 263] {
            let height = 5
            let outH = (height + 2 * pad - kernel) / stride + 1
            let outW = (width + 2 * pad - kernel) / stride + 1
            guard outH > 0, outW > 0 else { continue }
            let g = qat_depthwise_geometry(
              in_h: Int32(height), in_w: Int32(width), out_h: Int32(outH), out_w: Int32(outW),
              kernel_h: Int32(kernel), kernel_w: Int32(kernel), stride_h: Int32(stride), stride_w: Int32(stride),
              dilation_h: 1, dilation_w: 1, pad_top: Int32(pad), pad_left: Int32(pad))
            let x = (0..<(height * width)).map { _ in numbers.next() * 4 }
            let w = (0..<(kernel * kernel)).map { _ in numbers.next() }
            let bias = numbers.next()
            let portable = DepthwisePlaneRun.bits(x, w, bias: bias, g, level: 0)
            for level: Int32 in [2, 1] {
              XCTAssertEqual(
                DepthwisePlaneRun.bits(x, w, bias: bias, g, level: level), portable,
                "width \(width) kernel \(kernel) stride \(stride) pad \(pad) level \(level)")
            }
            checked += 1
          }
        }
      }
    }
    XCTAssertEqual(checked, 2 * 2 * 3 * 77)
  }
}
