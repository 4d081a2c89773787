import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The byte im2col (`qat_im2col_u8`, behind IntegerConvolution's 8-bit path) equals the index
/// definition element for element: row `ky * kw + kx`, column `oy * out_w + ox` holds
/// `x[oy * sh + ky * dh - pt, ox * sw + kx * dw - pl]`, or the padding byte outside the image.
/// Kernels 1x1 to 7x7, strides 1 to 3 (stride 2 has its own AVX2 loop), dilations 1 and 2, uneven
/// pads, widths from 1 to 90 (shorter and longer than one 16-output step), AVX2 and portable loops.
final class Im2colBytesTests: XCTestCase {
  override func tearDown() {
    qat_im2col_set_portable(0)
    super.tearDown()
  }

  func testMatchesTheIndexDefinition() {
    var state: UInt64 = 12_345
    func next(_ range: ClosedRange<Int>) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return range.lowerBound + Int((state >> 33) % UInt64(range.count))
    }
    var compared = 0
    for kernel in [1, 2, 3, 5, 7] {
      for stride in 1...3 {
        for dilation in 1...2 {
          for _ in 0..<4 {
            let (height, width) = (next(1...12), next(1...90))
            let (top, left, bottom, right) = (next(0...3), next(0...3), next(0...3), next(0...3))
            let outH = (height + top + bottom - dilation * (kernel - 1) - 1) / stride + 1
            let outW = (width + left + right - dilation * (kernel - 1) - 1) / stride + 1
            guard outH > 0, outW > 0 else { continue }
            let x = (0..<(height * width)).map { _ in UInt8(next(0...255)) }
            let padding = UInt8(next(0...255))
            var geometry = qat_depthwise_geometry(
              in_h: Int32(height), in_w: Int32(width), out_h: Int32(outH), out_w: Int32(outW),
              kernel_h: Int32(kernel), kernel_w: Int32(kernel), stride_h: Int32(stride), stride_w: Int32(stride),
              dilation_h: Int32(dilation), dilation_w: Int32(dilation), pad_top: Int32(top), pad_left: Int32(left))
            var expected = [UInt8](repeating: 0, count: kernel * kernel * outH * outW)
            for ky in 0..<kernel {
              for kx in 0..<kernel {
                for oy in 0..<outH {
                  for ox in 0..<outW {
                    let (iy, ix) = (oy * stride + ky * dilation - top, ox * stride + kx * dilation - left)
                    let inside = iy >= 0 && iy < height && ix >= 0 && ix < width
                    expected[((ky * kernel + kx) * outH + oy) * outW + ox] = inside ? x[iy * width + ix] : padding
                  }
                }
              }
            }
            for portable: Int32 in [0, 1] {
              qat_im2col_set_portable(portable)
              var rows = [UInt8](repeating: 0, count: expected.count)
              x.withUnsafeBufferPointer { source in
                rows.withUnsafeMutableBufferPointer { target in
                  guard let s = source.baseAddress, let t = target.baseAddress else { return }
                  qat_im2col_u8(s, padding, &geometry, t)
                }
              }
              XCTAssertEqual(
                rows, expected,
                "kernel \(kernel) stride \(stride) dilation \(dilation) in \(height)x\(width) "
                  + "pads \(top),\(left) portable \(portable)")
              compared += rows.count
            }
          }
        }
      }
    }
    XCTAssertGreaterThan(compared, 50_000)
  }
}
