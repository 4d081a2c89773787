import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The C epilogue of a fused Conv (`qat_float_epilogue`) gives the bits of the unfused Swift
/// kernels' operations in order (BatchNormalizationKernel.normalized, then ElementwiseUnary.relu,
/// ElementwiseClip.clamp or ElementwiseUnary.leakyRelu), both where the float depthwise plane
/// applies it as it stores (`qat_depthwise_plane_f32_fused`, AVX-512, AVX2 and portable, compared with
/// `qat_depthwise_plane_f32` followed by those operations) and over a block in place
/// (`qat_float_epilogue_apply`). Exact comparisons, NaN payloads included except where an input
/// NaN meets a fused multiply-add (DepthwiseSpecialValueTests says why those are canonicalized).
/// Operands reach the cases where orders and operand choices differ: NaN, both signed zeros,
/// infinities, values equal to a Clip bound, Clip bounds of -0 and NaN, LeakyRelu on -0.
final class FusedFloatEpilogueKernelTests: XCTestCase {
  /// The epilogues tried: without and with a normalization, every activation kind.
  private var epilogues: [FusedEpilogue] {
    let normalizations: [(factor: [Float], shift: [Float])?] = [nil, ([1], [-0.0]), ([-0.5], [6]), ([3], [-1.5])]
    let activations: [FusedEpilogue.Activation?] = [
      nil, .relu, .clip(low: 0, high: 6), .clip(low: -0.0, high: 0), .clip(low: .nan, high: 1),
      .clip(low: -1, high: .nan), .leakyRelu(alpha: 0.1), .leakyRelu(alpha: -2),
    ]
    return normalizations.flatMap { normalization in
      activations.compactMap { activation in
        normalization == nil && activation == nil
          ? nil : FusedEpilogue(normalization: normalization, activation: activation)
      }
    }
  }

  /// The unfused Swift operations of `epilogue` (channel 0) on one value.
  private func unfused(_ value: Float, _ epilogue: FusedEpilogue) -> Float {
    var y = value
    if let normalization = epilogue.normalization {
      y = BatchNormalizationKernel.normalized(y, factor: normalization.factor[0], shift: normalization.shift[0])
    }
    switch epilogue.activation {
    case nil: return y
    case .relu: return ElementwiseUnary.relu(y)
    case .clip(let low, let high): return ElementwiseClip.clamp(y, low: low, high: high)
    case .leakyRelu(let alpha): return ElementwiseUnary.leakyRelu(y, alpha: alpha)
    }
  }

  /// Values that tell the operations' orders and operand choices apart.
  private let palette: [Float] = [
    0, -0.0, 6, -6, 1, -1, 0.1, -1.5, 3.25, .infinity, -.infinity, Float(bitPattern: 0x7FC0_0042),
    Float.leastNormalMagnitude / 4, -Float.leastNormalMagnitude / 4,
  ]

  func testEpilogueApplyEqualsTheUnfusedOperations() {
    var numbers = SeededFloats(state: 5)
    for epilogue in epilogues {
      var fused = epilogue.kernelEpilogue(channel: 0)
      // Lengths around the vector widths (sixteen with AVX-512, eight with AVX2), so every
      // vector loop and the tail run.
      for count in [1, 7, 8, 9, 16, 23, 24, 31, 40] {
        let values = (0..<count).map { _ in palette[Int((numbers.next() + 1) * 1000) % palette.count] }
        var result = values
        result.withUnsafeMutableBufferPointer { buffer in
          guard let base = buffer.baseAddress else { return }
          qat_float_epilogue_apply(base, count, &fused)
        }
        XCTAssertEqual(
          result.map(\.bitPattern), values.map { unfused($0, epilogue).bitPattern },
          "epilogue \(epilogue.normalization.map { "\($0)" } ?? "-") \(String(describing: epilogue.activation)) "
            + "count \(count)")
      }
    }
  }

  func testFusedDepthwisePlaneEqualsThePlaneThenTheUnfusedOperations() {
    var numbers = SeededFloats(state: 9)
    // (height, width, kernel, stride, pad): 1x1 kernels pass the palette's values through (weight
    // 1, bias -0), 3x3 ones at strides 1 and 2 sum them; rows narrower than a vector, 56 wide, and
    // wider than eight vectors.
    let shapes: [(Int, Int, Int, Int, Int)] = [
      (4, 11, 1, 1, 0), (5, 56, 1, 1, 0), (6, 56, 3, 1, 1), (7, 56, 3, 2, 1), (3, 5, 3, 1, 1), (3, 70, 3, 1, 1),
      (4, 28, 3, 2, 1),
    ]
    for (height, width, kernel, stride, pad) in shapes {
      let outH = (height + 2 * pad - kernel) / stride + 1
      let outW = (width + 2 * pad - kernel) / stride + 1
      let g = qat_depthwise_geometry(
        in_h: Int32(height), in_w: Int32(width), out_h: Int32(outH), out_w: Int32(outW), kernel_h: Int32(kernel),
        kernel_w: Int32(kernel), stride_h: Int32(stride), stride_w: Int32(stride), dilation_h: 1, dilation_w: 1,
        pad_top: Int32(pad), pad_left: Int32(pad))
      let x = (0..<(height * width)).map { _ in palette[Int((numbers.next() + 1) * 1000) % palette.count] }
      let w: [Float] =
        kernel == 1 ? [1] : (0..<(kernel * kernel)).map { _ in [1, -1, 0.5][Int(numbers.next() * 3 + 3) % 3] }
      for epilogue in epilogues {
        for level in DepthwisePlaneRun.levels {
          let plain = plane(x, w, g, epilogue: nil, level: level)
          let expected = plain.map { unfused($0, epilogue).bitPattern }
          XCTAssertEqual(
            plane(x, w, g, epilogue: epilogue, level: level).map(\.bitPattern), expected,
            "\(height)x\(width) k\(kernel) s\(stride) level \(level) "
              + "\(epilogue.normalization.map { "\($0)" } ?? "-") \(String(describing: epilogue.activation))")
        }
      }
    }
  }

  /// One plane through `qat_depthwise_plane_f32_fused` with bias -0 and `epilogue` (nil: none).
  private func plane(
    _ x: [Float], _ w: [Float], _ g: qat_depthwise_geometry, epilogue: FusedEpilogue?, level: Int32
  ) -> [Float] {
    qat_depthwise_set_level(level)
    defer { qat_depthwise_set_level(2) }
    var geometry = g
    var fused = epilogue?.kernelEpilogue(channel: 0) ?? FusedEpilogue.noKernelEpilogue
    var y = [Float](repeating: .nan, count: Int(g.out_h * g.out_w))
    var scratch = [Float](repeating: .nan, count: qat_depthwise_f32_scratch_floats(&geometry))
    x.withUnsafeBufferPointer { px in
      w.withUnsafeBufferPointer { pw in
        y.withUnsafeMutableBufferPointer { py in
          scratch.withUnsafeMutableBufferPointer { ps in
            guard let xb = px.baseAddress, let wb = pw.baseAddress, let yb = py.baseAddress, let sb = ps.baseAddress
            else { return }
            qat_depthwise_plane_f32_fused(xb, wb, -0.0, yb, &geometry, sb, 0, &fused)
          }
        }
      }
    }
    // A NaN input's payload through a fused multiply-add is the instruction's choice: canonical.
    return y.map { $0.isNaN ? .nan : $0 }
  }
}
