import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The AVX2 requantization kernel (`qat_requantize_int8`, RequantizationVector) against the
/// scalar reference `Requantizer.value` of the same accumulator plus bias (int32 wrap), byte for
/// byte: both modes, int8 and uint8 outputs, full and clipped ranges, ties (float: `x.5` after the
/// multiply; fixed-point: remainders of exactly half after the shift), saturation at both ends,
/// int32 extremes, bias wrap-around, NaN and infinite float scales, multipliers above one (left
/// shifts) and below 2^-31, and every tail length 1...40 besides a long row. The kernel must run
/// on an AVX2 machine, and with its portable switch set `requantize` must give the same bytes
/// through the Swift path.
final class RequantizationVectorTests: XCTestCase {
  override func tearDown() {
    qat_requantize_set_portable(0)
    super.tearDown()
  }

  private var hasAVX2: Bool {
    #if arch(x86_64)
      return (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.contains(" avx2") ?? false
    #else
      return false
    #endif
  }

  /// `body` on the first elements of `input` and `output` (false when either is empty).
  @discardableResult
  private func buffers<T>(
    _ input: inout [Int32], _ output: inout [T], _ body: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<T>) -> Bool
  ) -> Bool {
    input.withUnsafeMutableBufferPointer { source in
      output.withUnsafeMutableBufferPointer { target in
        guard let s = source.baseAddress, let t = target.baseAddress else { return false }
        return body(s, t)
      }
    }
  }

  /// Edge accumulators, ties for the multipliers below, and seeded random values.
  private func accumulators(count: Int, seed: UInt64) -> [Int32] {
    var values: [Int32] = [.min, .min + 1, .max, .max - 1, 0, 1, -1, 2, -2, 3, -3, 5, -5, 127, -128, 255, 256]
    for power in 1...30 {
      values += [Int32(1) << power, -(Int32(1) << power), (Int32(1) << power) + 1, -(Int32(1) << power) - 1]
      values += [(Int32(1) << power) | (Int32(1) << (power - 1)), -((Int32(1) << power) | (Int32(1) << (power - 1)))]
    }
    var state = seed | 1
    while values.count < count {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let magnitude = Int32(truncatingIfNeeded: state >> 33) >> Int32((state >> 20) % 24)
      values.append(magnitude)
    }
    return Array(values.prefix(count))
  }

  /// Float multipliers (ties at 0.5, 0.25, 2^-10; extremes; NaN; infinity) and the reals of the
  /// fixed-point mode (ties at powers of two; left shifts above one; zero below 2^-31).
  private let floatScales: [Float] = [0.5, 0.25, 1.0 / 1024, 0.013_7, 3.7, 1e-9, 0, .nan, .infinity, 1e9]
  private let realScales: [Double] = [0.5, 0.25, 1.0 / 1024, 0.013_7, 3.7, 0.999_999_9, 1, 1e-12, 100, 2.3e-5]

  private func check<T: FixedWidthInteger & SIMDScalar>(_ type: T.Type, mode: ExecutionOptions.Requantization) {
    let full = T.isSigned ? Int32(-128)...Int32(127) : Int32(0)...Int32(255)
    let ranges = [full, T.isSigned ? Int32(-20)...Int32(90) : Int32(7)...Int32(200)]
    let zeroPoints: [Int32] = T.isSigned ? [0, -128, 127, 9] : [0, 255, 128, 3]
    let values = accumulators(count: 3_136 + 7, seed: UInt64(T.bitWidth) * 31 + (mode == .float ? 1 : 2))
    var compared = 0
    for range in ranges {
      for zeroPoint in zeroPoints {
        let requantizer = Requantizer(
          mode: mode, scales: floatScales, realScales: realScales, zeroPoint: zeroPoint, range: range)
        for channel in 0..<floatScales.count {
          for bias: Int32 in [0, 1_000, .max, .min] {
            for count in Array(1...40) + [values.count] {
              let input = Array(values[(channel % 5)...].prefix(count))
              guard input.count == count else { continue }
              var output = [T](repeating: 0, count: count)
              var source = input
              let ran = buffers(&source, &output) { accumulators, target in
                requantizer.requantizeVector(accumulators, count: count, channel: channel, bias: bias, into: target)
              }
              XCTAssertEqual(ran, hasAVX2, "vector path taken")
              guard ran else { return }
              let expected = input.map { T(truncatingIfNeeded: requantizer.value($0 &+ bias, channel: channel)) }
              if output != expected {
                let index = output.indices.first { output[$0] != expected[$0] } ?? 0
                XCTFail(
                  "\(mode) \(T.self) range \(range) zp \(zeroPoint) channel \(channel) bias \(bias) count \(count): "
                    + "acc \(input[index]) gave \(output[index]), expected \(expected[index])")
                return
              }
              compared += count
            }
          }
        }
      }
    }
    XCTAssertGreaterThan(compared, 0)
  }

  func testFloatModeUInt8() { check(UInt8.self, mode: .float) }
  func testFloatModeInt8() { check(Int8.self, mode: .float) }
  func testFixedPointModeUInt8() { check(UInt8.self, mode: .fixedPoint) }
  func testFixedPointModeInt8() { check(Int8.self, mode: .fixedPoint) }

  /// The ties really occur and round as each mode says, in the vector path: the float mode half
  /// to even (multiplier 0.5: 1.5 -> 2, 2.5 -> 2, -1.5 -> -2); the fixed-point mode's doubling
  /// high multiply toward +infinity (multiplier 0.5 = 2^30 / 2^31, no shift: 1.5 -> 2, 2.5 -> 3,
  /// -1.5 -> -1, -2.5 -> -2) and its rounding shift away from zero (multiplier 0.25 = 2^30 / 2^31
  /// then a shift right by 1: the high multiply is exact on even accumulators, 6 -> 3 -> 1.5 -> 2,
  /// -6 -> -3 -> -1.5 -> -2, 2 -> 0.5 -> 1, -2 -> -0.5 -> -1).
  func testTiesRoundAsEachModeSays() throws {
    try XCTSkipUnless(hasAVX2, "no AVX2: the vector path does not run")
    let cases: [(ExecutionOptions.Requantization, Double, [Int32], [Int8])] = [
      (.float, 0.5, [3, 5, -3, -5, 1, -1, 7, 9], [2, 2, -2, -2, 0, 0, 4, 4]),
      (.fixedPoint, 0.5, [3, 5, -3, -5, 1, -1, 7, 9], [2, 3, -1, -2, 1, 0, 4, 5]),
      (.fixedPoint, 0.25, [6, -6, 2, -2, 10, -10, 14, -14], [2, -2, 1, -1, 3, -3, 4, -4]),
      (.float, 0.25, [6, -6, 2, -2, 10, -10, 14, -14], [2, -2, 0, 0, 2, -2, 4, -4]),
    ]
    for (mode, scale, input, expected) in cases {
      let requantizer = Requantizer(
        mode: mode, scales: [Float(scale)], realScales: [scale], zeroPoint: 0, range: -128...127)
      var output = [Int8](repeating: 0, count: input.count)
      var source = input
      let ran = buffers(&source, &output) { accumulators, target in
        requantizer.requantizeVector(accumulators, count: input.count, channel: 0, bias: 0, into: target)
      }
      XCTAssertTrue(ran)
      XCTAssertEqual(output, expected, "\(mode) multiplier \(scale)")
    }
  }

  /// With the C kernel switched off, `requantize(..., bias:)` adds the bias in place and takes the
  /// Swift path: the same bytes as the vector path, both modes.
  func testPortableSwitchGivesTheSameBytes() {
    let values = accumulators(count: 1_000, seed: 7)
    for mode in [ExecutionOptions.Requantization.float, .fixedPoint] {
      let requantizer = Requantizer(
        mode: mode, inputScale: 0.02, weightScales: [0.003, 0.0041], outputScale: 0.05, zeroPoint: 131,
        range: 0...255)
      var results: [[UInt8]] = []
      for portable: Int32 in [0, 1] {
        qat_requantize_set_portable(portable)
        var source = values
        var output = [UInt8](repeating: 0, count: values.count)
        buffers(&source, &output) { accumulators, target in
          requantizer.requantize(accumulators, count: values.count, channel: 1, bias: -77, into: target)
          return true
        }
        results.append(output)
      }
      qat_requantize_set_portable(0)
      XCTAssertEqual(results[0], results[1], "\(mode)")
      XCTAssertGreaterThan(Set(results[0]).count, 50, "\(mode): the values cover the range")
    }
  }
}
