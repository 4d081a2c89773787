import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The executor's fast paths give the results of the straightforward loops written here:
/// depthwise convolution (strides 1 and 2, dilation, padding, bias) bit for bit by its stated semantics,
/// convolution bands spread over threads with the weights packed once, float MaxPool without
/// Indices equal to the Indices path, and a bias added along the last axis. Correctness only.
final class ExecutorPerformanceTests: XCTestCase {
  /// Runs one node and returns its outputs.
  private func run(
    _ op: String, _ inputs: [HostTensor], _ attributes: [Attribute] = [], outputs: Int = 1, threads: Int = 1
  ) throws -> [HostTensor] {
    var options = ExecutionOptions()
    options.threads = threads
    return try SingleNodeRun.run(
      op, opset: 17, inputs: inputs, attributes: attributes, outputs: outputs, options: options)
  }

  private func ints(_ name: String, _ values: [Int]) -> Attribute {
    Attribute(name: name, .ints(values.map(Int64.init)))
  }
  private func int(_ name: String, _ value: Int) -> Attribute { Attribute(name: name, .int(Int64(value))) }

  /// 2-D convolution: bias, then the taps in order (input channel, kh, kw), skipping padding.
  private func referenceConv(
    x: HostTensor, w: HostTensor, bias: [Float]?, group: Int, stride: Int, dilation: Int, pad: Int
  ) -> (values: [Float], shape: [Int]) {
    let (n, c, h, wid) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (m, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let oh = (h + 2 * pad - dilation * (kh - 1) - 1) / stride + 1
    let ow = (wid + 2 * pad - dilation * (kw - 1) - 1) / stride + 1
    let px = x.values(Float.self)
    let pw = w.values(Float.self)
    var y: [Float] = []
    for b in 0..<n {
      for oc in 0..<m {
        let g = oc / (m / group)
        for i in 0..<oh {
          for j in 0..<ow {
            var sum = bias?[oc] ?? 0
            for ic in 0..<cg {
              for a in 0..<kh {
                for e in 0..<kw {
                  let ih = i * stride - pad + a * dilation
                  let iw = j * stride - pad + e * dilation
                  guard ih >= 0, ih < h, iw >= 0, iw < wid else { continue }
                  sum += px[((b * c + g * cg + ic) * h + ih) * wid + iw] * pw[((oc * cg + ic) * kh + a) * kw + e]
                }
              }
            }
            y.append(sum)
          }
        }
      }
    }
    return (y, [n, m, oh, ow])
  }

  func testDepthwiseConvMatchesTheReferenceExactly() throws {
    var numbers = SeededFloats(state: 21)
    for (stride, dilation, pad, width) in [(1, 1, 1, 37), (2, 1, 1, 45), (2, 1, 0, 40), (1, 2, 2, 29), (2, 2, 3, 51)] {
      let x = numbers.tensor([1, 6, 13, width])
      let w = numbers.tensor([12, 1, 3, 3])
      let b = numbers.tensor([12])
      for threads in [1, 2] {
        let result = try run(
          "Conv", [x, w, b],
          [
            int("group", 6), ints("strides", [stride, stride]), ints("dilations", [dilation, dilation]),
            ints("pads", [pad, pad, pad, pad]),
          ], threads: threads)[0]
        let expected = depthwiseReference(x: x, w: w, bias: b, stride: stride, dilation: dilation, pad: pad)
        XCTAssertEqual(result.shape, expected.shape)
        XCTAssertEqual(
          result.values(Float.self).map(\.bitPattern), expected.bits, "stride \(stride) dilation \(dilation) pad \(pad)"
        )
      }
    }
  }

  /// A depthwise Conv (3x3, channel multiplier M / C) by the stated semantics
  /// (`DepthwisePlaneRun.reference`), plane by plane.
  private func depthwiseReference(
    x: HostTensor, w: HostTensor, bias: HostTensor, stride: Int, dilation: Int, pad: Int
  ) -> (bits: [UInt32], shape: [Int]) {
    let (c, h, width, m) = (x.shape[1], x.shape[2], x.shape[3], w.shape[0])
    let oh = (h + 2 * pad - dilation * 2 - 1) / stride + 1
    let ow = (width + 2 * pad - dilation * 2 - 1) / stride + 1
    let g = qat_depthwise_geometry(
      in_h: Int32(h), in_w: Int32(width), out_h: Int32(oh), out_w: Int32(ow), kernel_h: 3, kernel_w: 3,
      stride_h: Int32(stride), stride_w: Int32(stride), dilation_h: Int32(dilation), dilation_w: Int32(dilation),
      pad_top: Int32(pad), pad_left: Int32(pad))
    let (px, pw, pb) = (x.values(Float.self), w.values(Float.self), bias.values(Float.self))
    var bits: [UInt32] = []
    for oc in 0..<m {
      let channel = oc / (m / c)
      bits += DepthwisePlaneRun.reference(
        Array(px[(channel * h * width)..<((channel + 1) * h * width)]), Array(pw[(oc * 9)..<(oc * 9 + 9)]),
        bias: pb[oc], g)
    }
    return (bits, [1, m, oh, ow])
  }

  func testConvBandsOnThreadsWithPackedWeights() throws {
    var numbers = SeededFloats(state: 22)
    // 144 x 48 columns per line: bands of 9 lines, 5 bands over 2 threads; 2 groups too.
    let x = numbers.tensor([1, 16, 40, 48])
    for group in [1, 2] {
      let w = numbers.tensor([24, 16 / group, 3, 3])
      let b = numbers.tensor([24])
      let result = try run("Conv", [x, w, b], [int("group", group), ints("pads", [1, 1, 1, 1])], threads: 2)[0]
      let expected = referenceConv(
        x: x, w: w, bias: b.values(Float.self), group: group, stride: 1, dilation: 1, pad: 1)
      XCTAssertEqual(result.shape, expected.shape)
      var worst: Float = 0
      for (a, e) in zip(result.values(Float.self), expected.values) { worst = max(worst, abs(a - e) / max(1, abs(e))) }
      XCTAssertLessThanOrEqual(worst, 1e-4)
    }
  }

  func testFloatMaxPoolEqualsTheIndicesPath() throws {
    var numbers = SeededFloats(state: 23)
    var values = numbers.tensor([1, 8, 33, 35]).values(Float.self)
    for index in [0, 5, 71, 400, 1000, 5000] { values[index] = .nan }
    let x = HostTensor(.float, shape: [1, 8, 33, 35], values: values)
    for (stride, dilation, pad) in [(2, 1, 1), (1, 1, 1), (1, 2, 0), (3, 1, 1)] {
      let attributes = [
        ints("kernel_shape", [3, 3]), ints("strides", [stride, stride]), ints("dilations", [dilation, dilation]),
        ints("pads", [pad, pad, pad, pad]),
      ]
      let fast = try run("MaxPool", [x], attributes, threads: 2)[0]
      let generic = try run("MaxPool", [x], attributes, outputs: 2)[0]
      XCTAssertEqual(fast.shape, generic.shape)
      XCTAssertEqual(
        fast.values(Float.self).map(\.bitPattern), generic.values(Float.self).map(\.bitPattern),
        "stride \(stride) dilation \(dilation) pad \(pad)")
    }
  }

  func testAddBiasAlongTheLastAxis() throws {
    var numbers = SeededFloats(state: 24)
    let x = numbers.tensor([3, 5, 7])
    let bias = numbers.tensor([7])
    let px = x.values(Float.self)
    let pb = bias.values(Float.self)
    let sum = try run("Add", [x, bias])[0]
    XCTAssertEqual(sum.values(Float.self), px.indices.map { px[$0] + pb[$0 % 7] })
    let difference = try run("Sub", [bias, x])[0]
    XCTAssertEqual(difference.values(Float.self), px.indices.map { pb[$0 % 7] - px[$0] })
  }
}
