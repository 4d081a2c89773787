import CIntegerKernels
import Foundation
import XCTest

/// `qat_requantize_int8` gives the same bytes at every level this CPU runs
/// (`qat_requantize_set_level`: the AVX2 loop and the AVX-512 loop; RequantizationVectorTests
/// holds the best level to the scalar reference): both modes, int8 and uint8 outputs, full and
/// clipped ranges, ties (float scales 0.5 and 0.25; Q31 multipliers of one half with right
/// shifts), left shifts, int32 extremes and biases that wrap, NaN and infinite scales, and every
/// tail length 1...40 besides a long row. Skips on CPUs without AVX-512.
final class RequantizationLevelTests: XCTestCase {
  override func tearDown() {
    qat_requantize_set_level(-1)
    super.tearDown()
  }

  /// Edge accumulators (extremes, powers of two and their neighbours, odd values for ties), then
  /// seeded values of every magnitude.
  private func accumulators(count: Int) -> [Int32] {
    var values: [Int32] = [.min, .min + 1, .max, .max - 1, 0, 1, -1, 2, -2, 3, -3, 5, -5, 127, -128, 255, 256]
    for power in 1...30 {
      values += [Int32(1) << power, -(Int32(1) << power), (Int32(1) << power) + 1, -(Int32(1) << power) - 1]
      values += [(Int32(1) << power) | (Int32(1) << (power - 1)), -((Int32(1) << power) | (Int32(1) << (power - 1)))]
    }
    var state: UInt64 = 0x1234_5678_9ABC_DEF1
    while values.count < count {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      values.append(Int32(truncatingIfNeeded: state >> 33) >> Int32((state >> 20) % 24))
    }
    return Array(values.prefix(count))
  }

  /// The bytes `qat_requantize_int8` writes at `level` (nil when it declines).
  private func run(_ input: [Int32], _ r: qat_requantization, outputSigned: Bool, level: Int32) -> [UInt8]? {
    XCTAssertEqual(qat_requantize_set_level(level), level)
    var output = [UInt8](repeating: 0xA5, count: input.count)
    let ran = input.withUnsafeBufferPointer { source in
      output.withUnsafeMutableBufferPointer { target in
        withUnsafePointer(to: r) {
          qat_requantize_int8(source.baseAddress, input.count, $0, outputSigned ? 1 : 0, target.baseAddress)
        }
      }
    }
    return ran == 1 ? output : nil
  }

  func testAVX512EqualsAVX2() throws {
    guard qat_requantize_set_level(-1) >= QAT_U8S8_AVX512_VNNI else {
      throw XCTSkip("this CPU lacks AVX-512 (F, BW, VL)")
    }
    let values = accumulators(count: 3_136 + 7)
    var compared = 0
    for outputSigned in [false, true] {
      let (low, high): (Int32, Int32) = outputSigned ? (-128, 127) : (0, 255)
      var rows: [qat_requantization] = []
      for bias: Int32 in [0, 1_000, .max, .min] {
        for scale: Float in [0.5, 0.25, 1.0 / 1024, 0.013_7, 3.7, 1e-9, 0, .nan, .infinity, 1e9] {
          var r = qat_requantization()
          r.scale = scale
          r.bias = bias
          rows.append(r)
        }
        for shift: Int32 in [0, -1, -2, -5, -12, -31, 3, 31] {
          for multiplier: Int32 in [1 << 30, (1 << 30) + 1, .max, 1_518_500_250, 1_176_821_039] {
            var r = qat_requantization()
            r.fixed_point = 1
            r.multiplier = multiplier
            r.shift = shift
            r.bias = bias
            rows.append(r)
          }
        }
      }
      for (index, base) in rows.enumerated() {
        for zeroPoint in [low, high, outputSigned ? 0 : 128, outputSigned ? 9 : 3] {
          for (minimum, maximum) in [(low, high), (outputSigned ? -20 : 7, outputSigned ? 90 : 200)] {
            var r = base
            r.zero_point = zeroPoint
            r.minimum = minimum
            r.maximum = maximum
            for count in Array(1...40) + [values.count] {
              let input = Array(values[(index % 7)...].prefix(count))
              let avx2 = run(input, r, outputSigned: outputSigned, level: Int32(QAT_U8S8_AVX2))
              let avx512 = run(input, r, outputSigned: outputSigned, level: Int32(QAT_U8S8_AVX512_VNNI))
              XCTAssertNotNil(avx2)
              guard avx2 != avx512 else { continue }
              XCTFail(
                "signed \(outputSigned) fixed \(r.fixed_point) scale \(r.scale) multiplier \(r.multiplier) shift "
                  + "\(r.shift) bias \(r.bias) zero \(zeroPoint) range \(minimum)...\(maximum) count \(count)")
              return
            }
            compared += 1
          }
        }
      }
    }
    XCTAssertGreaterThan(compared, 1_000)
  }
}
