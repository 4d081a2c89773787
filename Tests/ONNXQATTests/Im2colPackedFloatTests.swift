import CIntegerKernels
import Foundation
import XCTest

/// `qat_im2col_packed_f32` (a float Conv's im2col columns straight into the GEMM's packed operand
/// of 16-column slivers, AVX-512) equals the layout built here from the index definition, bit for
/// bit (values are moved, not computed): kernels 1x1 to 7x7, strides 1 to 3 (the kernel runs at
/// horizontal strides 1 and 2), dilations 1 and 2, uneven pads, output lines from 1 column wide
/// (a sliver crossing sixteen lines) to wider than a sliver, bands of lines starting anywhere,
/// K blocks of every depth (the last one shorter), the slivers written in two calls split
/// anywhere, and values that include -0, infinities and NaN payloads.
final class Im2colPackedFloatTests: XCTestCase {
  func testSliversEqualTheIndexDefinition() throws {
    var probe = qat_depthwise_geometry(
      in_h: 4, in_w: 4, out_h: 4, out_w: 4, kernel_h: 1, kernel_w: 1, stride_h: 1, stride_w: 1, dilation_h: 1,
      dilation_w: 1, pad_top: 0, pad_left: 0)
    try XCTSkipUnless(qat_im2col_packed_f32_vector(&probe) != 0, "no AVX-512 here: the kernel never runs")
    var state: UInt64 = 77
    func next(_ range: ClosedRange<Int>) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return range.lowerBound + Int((state >> 33) % UInt64(range.count))
    }
    let specials: [Float] = [
      -0.0, .infinity, -.infinity, Float(bitPattern: 0x7FC0_1234), Float(bitPattern: 0xFFA0_0001),
    ]
    var compared = 0
    for _ in 0..<800 {
      guard let shape = RandomPlaneGeometry(next) else { continue }
      let channels = next(1...5)
      let (outputH, outputW) = (shape.outputH, shape.outputW)
      var geometry = shape.geometry
      let firstLine = next(0...(outputH - 1))
      let lines = next(1...(outputH - firstLine))
      let (n, taps) = (lines * outputW, shape.kernelH * shape.kernelW)
      let k = channels * taps
      let depthBlock = next(1...(k + 3))
      let slivers = (n + 15) / 16
      let x: [Float] = (0..<(channels * shape.height * shape.width)).map { _ in
        next(0...20) == 0 ? specials[next(0...(specials.count - 1))] : Float(next(-1000...1000)) / 7
      }
      var expected = [UInt32](repeating: 0, count: slivers * 16 * k)
      var p0 = 0
      while p0 < k {
        let depth = min(depthBlock, k - p0)
        for sliver in 0..<slivers {
          for p in 0..<depth {
            for lane in 0..<16 {
              let (row, column) = (p0 + p, sliver * 16 + lane)
              var value: Float = 0
              if column < n,
                let index = shape.inputIndex(
                  channel: row / taps, tap: row % taps, oy: firstLine + column / outputW, ox: column % outputW)
              {
                value = x[index]
              }
              expected[slivers * 16 * p0 + sliver * 16 * depth + p * 16 + lane] = value.bitPattern
            }
          }
        }
        p0 += depth
      }
      var packed = [Float](repeating: Float(bitPattern: 0x7FBF_FFFF), count: expected.count)
      let split = next(0...slivers)
      let written = x.withUnsafeBufferPointer { planes -> Bool in
        packed.withUnsafeMutableBufferPointer { target -> Bool in
          guard let planes = planes.baseAddress, let target = target.baseAddress else { return false }
          let (first, line, count, block) = (Int32(firstLine), Int32(lines), Int32(depthBlock), Int32(channels))
          return qat_im2col_packed_f32(planes, block, &geometry, first, line, count, 0, Int32(split), target) != 0
            && qat_im2col_packed_f32(planes, block, &geometry, first, line, count, Int32(split), Int32(slivers), target)
              != 0
        }
      }
      XCTAssertEqual(written, shape.strideW <= 2, "the kernel runs at horizontal strides 1 and 2 only")
      guard written else { continue }
      XCTAssertEqual(
        packed.map(\.bitPattern), expected,
        "\(shape) channels \(channels) lines \(firstLine)+\(lines) block \(depthBlock)")
      compared += expected.count
    }
    XCTAssertGreaterThan(compared, 100_000)
  }
}
