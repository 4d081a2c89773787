import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The byte im2col (`qat_im2col_u8`, behind IntegerConvolution's 8-bit path) equals the index
/// definition element for element: row `ky * kw + kx`, column `oy * out_w + ox` holds
/// `x[oy * sh + ky * dh - pt, ox * sw + kx * dw - pl]`, or the padding byte outside the image.
/// Kernels 1x1 to 7x7, strides 1 to 3 (stride 2 has its own AVX2 loop), dilations 1 and 2, uneven
/// pads, widths from 1 to 90 (shorter and longer than one 16-output step), AVX2 and portable loops;
/// the whole matrix and random ranges of its columns (which start and end inside output rows).
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
            let outputH = (height + top + bottom - dilation * (kernel - 1) - 1) / stride + 1
            let outputW = (width + left + right - dilation * (kernel - 1) - 1) / stride + 1
            guard outputH > 0, outputW > 0 else { continue }
            let x = (0..<(height * width)).map { _ in UInt8(next(0...255)) }
            let padding = UInt8(next(0...255))
            var geometry = qat_depthwise_geometry(
              in_h: Int32(height), in_w: Int32(width), out_h: Int32(outputH), out_w: Int32(outputW),
              kernel_h: Int32(kernel), kernel_w: Int32(kernel), stride_h: Int32(stride), stride_w: Int32(stride),
              dilation_h: Int32(dilation), dilation_w: Int32(dilation), pad_top: Int32(top), pad_left: Int32(left))
            var expected = [UInt8](repeating: 0, count: kernel * kernel * outputH * outputW)
            for ky in 0..<kernel {
              for kx in 0..<kernel {
                for oy in 0..<outputH {
                  for ox in 0..<outputW {
                    let (iy, ix) = (oy * stride + ky * dilation - top, ox * stride + kx * dilation - left)
                    let inside = iy >= 0 && iy < height && ix >= 0 && ix < width
                    expected[((ky * kernel + kx) * outputH + oy) * outputW + ox] = inside ? x[iy * width + ix] : padding
                  }
                }
              }
            }
            let outputSize = outputH * outputW
            // The whole matrix, then column ranges of it (a row stride wider than the range, its
            // spare bytes holding a sentinel that must survive).
            let (a, b) = (next(0...(outputSize - 1)), next(0...(outputSize - 1)))
            for span in [0..<outputSize, min(a, b)..<(max(a, b) + 1)] {
              let rowStride = span.count + (span.count == outputSize ? 0 : 3)
              var wanted = [UInt8](repeating: 0xA5, count: kernel * kernel * rowStride)
              for tap in 0..<(kernel * kernel) {
                for column in span {
                  wanted[tap * rowStride + column - span.lowerBound] = expected[tap * outputSize + column]
                }
              }
              for portable: Int32 in [0, 1] {
                qat_im2col_set_portable(portable)
                var rows = [UInt8](repeating: 0xA5, count: wanted.count)
                x.withUnsafeBufferPointer { source in
                  rows.withUnsafeMutableBufferPointer { target in
                    guard let s = source.baseAddress, let t = target.baseAddress else { return }
                    qat_im2col_u8(
                      s, padding, &geometry, Int32(span.lowerBound), Int32(span.upperBound), t, rowStride)
                  }
                }
                XCTAssertEqual(
                  rows, wanted,
                  "kernel \(kernel) stride \(stride) dilation \(dilation) in \(height)x\(width) "
                    + "pads \(top),\(left) columns \(span) portable \(portable)")
                compared += span.count * kernel * kernel
              }
            }
          }
        }
      }
    }
    XCTAssertGreaterThan(compared, 50_000)
  }
}
