import Foundation
import XCTest

@testable import ONNXQAT

/// QLinearGlobalAveragePool (com.microsoft) reads channels-first planes contiguously and
/// channels-last values `C` apart: both layouts of the same data give the same bytes, equal to
/// the stated float-mode semantics `round_half_even(Float(sum(x - x_zp)) * (x_scale / (y_scale * HW))) + y_zp`
/// clamped to uint8 (exact comparison: the same float operations).
final class QLinearGlobalAveragePoolLayoutTests: XCTestCase {
  private func pool(_ x: HostTensor, channelsLast: Bool, scales: (Float, Float), zeros: (UInt8, UInt8)) throws
    -> HostTensor
  {
    try SingleNodeRun.run(
      "QLinearGlobalAveragePool", domain: "com.microsoft", opset: 17,
      inputs: [
        x, HostTensor(.float, shape: [], values: [scales.0]), HostTensor(.uint8, shape: [], values: [zeros.0]),
        HostTensor(.float, shape: [], values: [scales.1]), HostTensor(.uint8, shape: [], values: [zeros.1]),
      ],
      attributes: [Attribute(name: "channels_last", .int(channelsLast ? 1 : 0))])[0]
  }

  func testChannelsFirstAndLastEqualTheStatedSemantics() throws {
    var generator = SystemRandomNumberGenerator()
    let (batch, channels, height, width) = (2, 5, 3, 7)
    let size = height * width
    let first = (0..<(batch * channels * size)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    // NCHW -> NHWC
    var last = [UInt8](repeating: 0, count: first.count)
    for n in 0..<batch {
      for c in 0..<channels {
        for s in 0..<size { last[(n * size + s) * channels + c] = first[(n * channels + c) * size + s] }
      }
    }
    let (xScale, yScale): (Float, Float) = (0.05, 0.04)
    let (xZero, yZero): (UInt8, UInt8) = (121, 7)
    let scale = xScale / (yScale * Float(size))
    var expected: [UInt8] = []
    for plane in 0..<(batch * channels) {
      var sum: Int32 = 0
      for s in 0..<size { sum &+= Int32(first[plane * size + s]) - Int32(xZero) }
      let value = Int32((Float(sum) * scale).rounded(.toNearestOrEven)) + Int32(yZero)
      expected.append(UInt8(min(255, max(0, value))))
    }
    let channelsFirst = try pool(
      HostTensor(.uint8, shape: [batch, channels, height, width], values: first), channelsLast: false,
      scales: (xScale, yScale), zeros: (xZero, yZero))
    let channelsLast = try pool(
      HostTensor(.uint8, shape: [batch, height, width, channels], values: last), channelsLast: true,
      scales: (xScale, yScale), zeros: (xZero, yZero))
    XCTAssertEqual(channelsFirst.shape, [batch, channels, 1, 1])
    XCTAssertEqual(channelsLast.shape, [batch, 1, 1, channels])
    XCTAssertEqual(channelsFirst.values(UInt8.self), expected)
    XCTAssertEqual(channelsLast.values(UInt8.self), expected)
  }
}
