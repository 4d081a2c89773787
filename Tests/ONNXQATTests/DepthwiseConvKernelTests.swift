import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The float depthwise plane kernel (`qat_depthwise_plane_f32`: a zero-padded copy, then AVX-512 sixteen or AVX2 +
/// FMA eight columns per vector, a portable loop otherwise) equals, bit for bit, the loop that
/// states its semantics (`DepthwisePlaneRun.reference`: the bias plus the fused multiply-adds of
/// every kernel tap from 0 in (ky, kx) order, padding read as 0). Exact comparisons: both paths
/// and the reference do the same float operations in the same order, so any difference is a bug.
/// Shapes cover stride 1, 2 and 3, dilation, asymmetric pads, pads wider than the kernel reach,
/// kernels 1x1 to 5x3, rows narrower and wider than one vector, and rows that are not a multiple
/// of eight wide; each plane alone and after another plane through the same scratch.
final class DepthwiseConvKernelTests: XCTestCase {
  private struct Case {
    let height, width, kernelH, kernelW, stride, dilation, padTop, padLeft, padBottom, padRight: Int

    init(_ v: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int)) {
      (height, width, kernelH, kernelW, stride, dilation) = (v.0, v.1, v.2, v.3, v.4, v.5)
      (padTop, padLeft, padBottom, padRight) = (v.6, v.7, v.8, v.9)
    }
  }

  /// (height, width, kernel height, kernel width, stride, dilation, pad top, left, bottom, right)
  private let cases: [Case] = [
    (9, 56, 3, 3, 1, 1, 1, 1, 1, 1), (10, 56, 3, 3, 2, 1, 1, 1, 1, 1), (7, 28, 3, 3, 2, 1, 1, 1, 0, 0),
    (5, 17, 3, 3, 1, 1, 0, 0, 0, 0), (6, 40, 5, 3, 1, 2, 2, 3, 1, 0), (8, 45, 3, 5, 2, 2, 0, 4, 4, 1),
    (6, 37, 3, 3, 3, 1, 1, 1, 1, 1), (4, 7, 3, 3, 1, 1, 1, 1, 1, 1), (1, 64, 1, 7, 1, 1, 0, 3, 0, 3),
    (12, 12, 1, 1, 1, 1, 0, 0, 0, 0), (3, 20, 3, 3, 1, 1, 3, 1, 3, 1), (7, 12, 3, 3, 2, 1, 1, 1, 1, 1),
    (4, 10, 3, 3, 2, 1, 1, 5, 1, 5), (5, 60, 3, 3, 2, 1, 0, 0, 2, 2), (3, 9, 2, 4, 4, 1, 0, 2, 1, 1),
  ].map(Case.init)

  private func geometry(_ c: Case) -> qat_depthwise_geometry {
    let outH = (c.height + c.padTop + c.padBottom - (c.kernelH - 1) * c.dilation - 1) / c.stride + 1
    let outW = (c.width + c.padLeft + c.padRight - (c.kernelW - 1) * c.dilation - 1) / c.stride + 1
    return qat_depthwise_geometry(
      in_h: Int32(c.height), in_w: Int32(c.width), out_h: Int32(outH), out_w: Int32(outW),
      kernel_h: Int32(c.kernelH), kernel_w: Int32(c.kernelW), stride_h: Int32(c.stride), stride_w: Int32(c.stride),
      dilation_h: Int32(c.dilation), dilation_w: Int32(c.dilation), pad_top: Int32(c.padTop),
      pad_left: Int32(c.padLeft))
  }

  private func plane(_ x: [Float], _ w: [Float], bias: Float, _ g: qat_depthwise_geometry, level: Int32) -> [Float] {
    DepthwisePlaneRun.bits(x, w, bias: bias, g, level: level).map(Float.init(bitPattern:))
  }

  func testAVX2AndPortablePlanesEqualTheTapByTapLoopBitForBit() {
    var generator = SystemRandomNumberGenerator()
    for c in cases {
      let g = geometry(c)
      let x = (0..<(c.height * c.width)).map { _ in Float.random(in: -3...3, using: &generator) }
      let w = (0..<(c.kernelH * c.kernelW)).map { _ in Float.random(in: -1...1, using: &generator) }
      let bias = Float.random(in: -1...1, using: &generator)
      let expected = DepthwisePlaneRun.reference(x, w, bias: bias, g)
      // A second plane through the same scratch copies only its elements (the padding stays 0).
      let previous = (0..<(c.height * c.width)).map { _ in Float.random(in: -3...3, using: &generator) }
      for level in DepthwisePlaneRun.levels {
        let actual = plane(x, w, bias: bias, g, level: level).map(\.bitPattern)
        XCTAssertEqual(actual, expected, "\(c) level \(level)")
        XCTAssertEqual(
          DepthwisePlaneRun.bits(x, w, bias: bias, g, level: level, previous: previous), expected,
          "\(c) level \(level) after another plane")
      }
    }
  }

  /// Conv with group = channels through the executor (threads 1 and 2, bias, channel multiplier 2)
  /// equals the per-plane reference bit for bit.
  func testDepthwiseConvNodeEqualsReferenceOnEveryThreadCount() throws {
    var generator = SystemRandomNumberGenerator()
    let (channels, height, width) = (16, 30, 33)  // 32 planes: enough work to split across threads
    let x = (0..<(channels * height * width)).map { _ in Float.random(in: -2...2, using: &generator) }
    let w = (0..<(2 * channels * 9)).map { _ in Float.random(in: -1...1, using: &generator) }
    let b = (0..<(2 * channels)).map { _ in Float.random(in: -1...1, using: &generator) }
    let g = geometry(Case((height, width, 3, 3, 2, 1, 1, 1, 1, 1)))
    var expected: [UInt32] = []
    for m in 0..<(2 * channels) {
      let image = Array(x[(m / 2 * height * width)..<((m / 2 + 1) * height * width)])
      expected += DepthwisePlaneRun.reference(image, Array(w[(m * 9)..<(m * 9 + 9)]), bias: b[m], g)
    }
    for threads in [1, 2] {
      var options = ExecutionOptions()
      options.threads = threads
      let outputs = try SingleNodeRun.run(
        "Conv", opset: 17,
        inputs: [
          HostTensor(.float, shape: [1, channels, height, width], values: x),
          HostTensor(.float, shape: [2 * channels, 1, 3, 3], values: w),
          HostTensor(.float, shape: [2 * channels], values: b),
        ],
        attributes: [
          Attribute(name: "group", .int(Int64(channels))), Attribute(name: "strides", .ints([2, 2])),
          Attribute(name: "pads", .ints([1, 1, 1, 1])),
        ], options: options)
      XCTAssertEqual(outputs[0].shape, [1, 2 * channels, Int(g.out_h), Int(g.out_w)])
      XCTAssertEqual(outputs[0].values(Float.self).map(\.bitPattern), expected, "threads \(threads)")
    }
  }

  /// A 3-D depthwise Conv (depth > 1: the Swift loop, not the plane kernel) equals the stated
  /// semantics element by element: the bias plus the fused multiply-adds of every tap from 0,
  /// taps in the padding reading 0. Exact comparison; channel multiplier 2, pads on every axis,
  /// strides (1, 2, 1), dilation 2 on the last axis, 1 and 2 threads.
  func testThreeDimensionalDepthwiseConvEqualsTheStatedSemantics() throws {
    var numbers = SeededFloats(state: 31)
    let (channels, depth, height, width) = (3, 4, 5, 7)
    let x = numbers.tensor([1, channels, depth, height, width], scale: 3)
    let w = numbers.tensor([2 * channels, 1, 2, 3, 3])
    let b = numbers.tensor([2 * channels])
    let (strides, dilations, pads) = ([1, 2, 1], [1, 1, 2], [1, 1, 2])
    let input = [depth, height, width]
    let kernel = [2, 3, 3]
    let output = (0..<3).map { axis -> Int in
      let span = dilations[axis] * (kernel[axis] - 1) + 1
      return (input[axis] + 2 * pads[axis] - span) / strides[axis] + 1
    }
    let (px, pw, pb) = (x.values(Float.self), w.values(Float.self), b.values(Float.self))
    var expected: [UInt32] = []
    for m in 0..<(2 * channels) {
      for od in 0..<output[0] {
        for oh in 0..<output[1] {
          for ow in 0..<output[2] {
            var sum: Float = 0
            for kd in 0..<2 {
              for kh in 0..<3 {
                for kw in 0..<3 {
                  let id = od * strides[0] - pads[0] + kd * dilations[0]
                  let ih = oh * strides[1] - pads[1] + kh * dilations[1]
                  let iw = ow * strides[2] - pads[2] + kw * dilations[2]
                  let inside = (0..<depth).contains(id) && (0..<height).contains(ih) && (0..<width).contains(iw)
                  let value = inside ? px[(((m / 2) * depth + id) * height + ih) * width + iw] : 0
                  sum.addProduct(pw[((m * 2 + kd) * 3 + kh) * 3 + kw], value)
                }
              }
            }
            expected.append((pb[m] + sum).bitPattern)
          }
        }
      }
    }
    for threads in [1, 2] {
      var options = ExecutionOptions()
      options.threads = threads
      let result = try SingleNodeRun.run(
        "Conv", opset: 17, inputs: [x, w, b],
        attributes: [
          Attribute(name: "group", .int(Int64(channels))), Attribute(name: "strides", .ints(strides.map(Int64.init))),
          Attribute(name: "dilations", .ints(dilations.map(Int64.init))),
          Attribute(name: "pads", .ints((pads + pads).map(Int64.init))),
        ], options: options)[0]
      XCTAssertEqual(result.shape, [1, 2 * channels] + output)
      XCTAssertEqual(result.values(Float.self).map(\.bitPattern), expected, "threads \(threads)")
    }
  }
}
