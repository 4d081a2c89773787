import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The float depthwise plane (`qat_depthwise_plane_f32`), AVX-512, AVX2 and portable, equals the loop that
/// states its semantics (`DepthwisePlaneRun.reference`: zero padding, fused multiply-adds from 0,
/// then the bias) bit for bit where rounding and special values could tell orders apart: bias -0
/// (a sum of -0 products plus -0 stays -0; the padding's +0 reads make some sums +0), inputs and
/// weights of both signed zeros, infinite and NaN weights (an infinite weight on a tap in the
/// padding makes `inf * 0`, NaN, as in a Conv over the zero-padded input), NaN inputs with
/// payloads. Exact comparisons, except that a NaN matches any NaN: which operand's payload a
/// fused multiply-add keeps depends on the instruction's operand order (IEEE 754 leaves it open),
/// and the payload means nothing to a Conv. Geometries: strides 1 and 2, pads 0 to 3 and 40 (rows of padding
/// only), dilation 2, a kernel 17 wide, rows 11 to 70 wide.
final class DepthwiseSpecialValueTests: XCTestCase {
  /// (height, width, kernel height, kernel width, stride, dilation, pad left and right, pad top)
  private let shapes: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
    (6, 56, 3, 3, 1, 1, 1, 1), (7, 56, 3, 3, 2, 1, 1, 1), (5, 28, 3, 3, 2, 1, 1, 0), (4, 14, 3, 3, 1, 1, 1, 1),
    (5, 31, 5, 5, 1, 1, 3, 2), (6, 33, 3, 3, 2, 2, 3, 1), (3, 70, 1, 17, 1, 1, 8, 0), (4, 41, 3, 3, 1, 1, 2, 2),
    (3, 20, 3, 3, 1, 1, 40, 1), (3, 11, 3, 3, 1, 1, 1, 1), (6, 64, 3, 5, 2, 1, 2, 1),
  ]

  /// The bit patterns with every NaN replaced by the quiet NaN without payload.
  private func canonical(_ bits: [UInt32]) -> [UInt32] {
    bits.map { Float(bitPattern: $0).isNaN ? Float.nan.bitPattern : $0 }
  }

  func testBothPathsEqualTheReferenceOnSignedZerosInfinitiesAndNaNs() {
    var numbers = SeededFloats(state: 11)
    let inputs: [Float] = [0, -0.0, 0, -0.0, 1.5, -2, Float(bitPattern: 0x7FC0_1234)]
    let weights: [Float] = [1, -1, 0, -0.0, .infinity, -.infinity, .nan, 0.75]
    func pick<T>(_ palette: [T]) -> T { palette[Int((numbers.next() + 1) * 1000) % palette.count] }
    var nanOutputs = 0
    for (height, width, kernelH, kernelW, stride, dilation, padW, padH) in shapes {
      let outH = (height + 2 * padH - (kernelH - 1) * dilation - 1) / stride + 1
      let outW = (width + 2 * padW - (kernelW - 1) * dilation - 1) / stride + 1
      let g = qat_depthwise_geometry(
        in_h: Int32(height), in_w: Int32(width), out_h: Int32(outH), out_w: Int32(outW), kernel_h: Int32(kernelH),
        kernel_w: Int32(kernelW), stride_h: Int32(stride), stride_w: Int32(stride), dilation_h: Int32(dilation),
        dilation_w: Int32(dilation), pad_top: Int32(padH), pad_left: Int32(padW))
      for trial in 0..<4 {
        // Trials 0 and 1: zeros only in X and finite weights, so signed-zero sums reach the output.
        let x = (0..<(height * width)).map { _ in trial < 2 ? pick([Float(0), -0.0]) : pick(inputs) }
        let w = (0..<(kernelH * kernelW)).map { _ in trial < 2 ? pick([Float(1), -1, 0.5]) : pick(weights) }
        let bias: Float = trial % 2 == 0 ? -0.0 : pick([Float(0), 1, .infinity])
        let expected = canonical(DepthwisePlaneRun.reference(x, w, bias: bias, g))
        nanOutputs += expected.filter { Float(bitPattern: $0).isNaN }.count
        for level in DepthwisePlaneRun.levels {
          XCTAssertEqual(
            canonical(DepthwisePlaneRun.bits(x, w, bias: bias, g, level: level)), expected,
            "\(height)x\(width) k\(kernelH)x\(kernelW) s\(stride) d\(dilation) pads \(padH),\(padW) trial \(trial) "
              + "level \(level)")
        }
      }
    }
    XCTAssertGreaterThan(nanOutputs, 0, "the palettes reach NaN outputs")
  }
}
