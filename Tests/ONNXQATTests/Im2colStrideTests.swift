import Foundation
import XCTest

@testable import ONNXQAT

/// Im2col's stride-2 rows (gathered eight columns at a time) hold exactly the element the
/// im2col definition names, 0 in the padding: a copy, so compared exactly. Widths around the
/// vector length exercise the vector loop, its scalar tail and the guard that keeps every load
/// inside the image.
final class Im2colStrideTests: XCTestCase {
  func testStride2ColumnsEqualTheDefinition() {
    for (width, kernel, pad) in [(7, 3, 1), (16, 3, 1), (17, 3, 0), (33, 7, 3), (40, 2, 0), (23, 5, 2)] {
      let channels = 2
      let height = 5
      let outW = (width + 2 * pad - kernel) / 2 + 1
      let outH = (height + 2 * pad - kernel) / 2 + 1
      let geometry = WindowGeometry(
        input: [1, height, width], kernel: [1, kernel, kernel], strides: [1, 2, 2], dilations: [1, 1, 1],
        padsBegin: [0, pad, pad], output: [1, outH, outW])
      // The image is the last thing in its buffer, so a load past its end would be caught by
      // a sanitizer; values are their own index + 1.
      let count = channels * height * width
      let image = UnsafeMutablePointer<Float>.allocate(capacity: count)
      defer { image.deallocate() }
      for i in 0..<count { image[i] = Float(i + 1) }
      let rows = channels * kernel * kernel
      let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * outH * outW)
      defer { columns.deallocate() }
      Im2col.expand(image, channels: channels, geometry: geometry, lines: 0..<outH, into: columns)
      var wrong = 0
      for c in 0..<channels {
        for kh in 0..<kernel {
          for kw in 0..<kernel {
            let row = (c * kernel + kh) * kernel + kw
            for oh in 0..<outH {
              for ow in 0..<outW {
                let (ih, iw) = (oh * 2 - pad + kh, ow * 2 - pad + kw)
                let inside = ih >= 0 && ih < height && iw >= 0 && iw < width
                let expected: Float = inside ? Float((c * height + ih) * width + iw + 1) : 0
                if columns[row * outH * outW + oh * outW + ow] != expected { wrong += 1 }
              }
            }
          }
        }
      }
      XCTAssertEqual(wrong, 0, "width \(width), kernel \(kernel), pad \(pad)")
    }
  }
}
