import CIntegerKernels
import Foundation
import XCTest

/// `qat_im2col_panel_u8` (the u8 x s8 product's packed B panels straight from the input planes)
/// equals the byte im2col matrix (`qat_im2col_u8`) packed by `qat_pack_b_panel_u8`, byte for
/// byte, on every panel: kernels 1x1 to 7x7, strides 1 to 3 (the vector path takes horizontal
/// strides 1 and 2), dilations 1 and 2, uneven pads, output rows from 1 column (a panel crossing
/// sixteen rows) to wider than a panel, 1 to 5 channels (k not a multiple of four), the last panel
/// partial; the vector path and the portable loop. Exact bytes, so no tolerance.
final class Im2colPanelTests: XCTestCase {
  override func tearDown() {
    qat_im2col_panel_set_portable(0)
    super.tearDown()
  }

  func testPanelsEqualPackedIm2col() {
    var state: UInt64 = 2_024
    func next(_ range: ClosedRange<Int>) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return range.lowerBound + Int((state >> 33) % UInt64(range.count))
    }
    var (panels, vectorPanels) = (0, 0)
    for trial in 0..<600 {
      guard let shape = RandomPlaneGeometry(next, horizontalStrides: trial % 5 == 4 ? 3...3 : 1...2) else { continue }
      let channels = next(1...5)
      let (height, width, outputH, outputW) = (shape.height, shape.width, shape.outputH, shape.outputW)
      var geometry = shape.geometry
      let (n, taps) = (outputH * outputW, shape.kernelH * shape.kernelW)
      let k = channels * taps
      let x = (0..<(channels * height * width)).map { _ in UInt8(next(0...255)) }
      let padding = UInt8(next(0...255))
      var matrix = [UInt8](repeating: 0, count: k * n)
      x.withUnsafeBufferPointer { planes in
        matrix.withUnsafeMutableBufferPointer { rows in
          guard let planes = planes.baseAddress, let rows = rows.baseAddress else { return }
          for channel in 0..<channels {
            qat_im2col_u8(
              planes + channel * height * width, padding, &geometry, 0, Int32(n), rows + channel * taps * n, n)
          }
        }
      }
      let count = qat_packed_quad_panel_count(Int32(k))
      for portable: Int32 in [0, 1] {
        qat_im2col_panel_set_portable(portable)
        let vector = qat_im2col_panel_u8_vector(&geometry) != 0
        for panel in 0..<((n + 15) / 16) {
          var expected = [UInt8](repeating: 0, count: count)
          var packed = [UInt8](repeating: 0xA5, count: count)
          matrix.withUnsafeBufferPointer { rows in
            guard let rows = rows.baseAddress else { return }
            qat_pack_b_panel_u8(rows, n, Int32(k), Int32(n), Int32(panel), &expected)
          }
          x.withUnsafeBufferPointer { planes in
            guard let planes = planes.baseAddress else { return }
            qat_im2col_panel_u8(planes, Int32(channels), padding, &geometry, Int32(panel), &packed)
          }
          XCTAssertEqual(
            packed, expected,
            "\(shape) channels \(channels) panel \(panel) vector \(vector)")
          panels += 1
          if vector { vectorPanels += 1 }
        }
      }
    }
    XCTAssertGreaterThan(panels, 5_000)
    #if arch(x86_64)
      let avx512 = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.contains(" avx512bw") ?? false
      if avx512 { XCTAssertGreaterThan(vectorPanels, 1_500, "the vector path is the one compared") }
    #endif
  }
}
