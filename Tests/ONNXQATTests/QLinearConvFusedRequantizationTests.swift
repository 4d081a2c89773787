import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// QLinearConv with the requantization fused into the u8 x s8 GEMM's store
/// (IntegerConvolutionRequantized) equals the unfused path (int32 accumulators, then
/// Requantizer per channel in Swift, taken when the vector kernel is switched off) byte for byte:
/// 3x3 and pointwise kernels, two groups, panel tails (n = 100 and 81 are not multiples of 16), a
/// product large enough for each thread's im2col to come in blocks,
/// uint8 and int8 outputs, float and fixed-point modes, 1 and 2 threads; exact integer results,
/// so no tolerance.
final class QLinearConvFusedRequantizationTests: XCTestCase {
  override func tearDown() {
    qat_requantize_set_portable(0)
    super.tearDown()
  }

  func testFusedEqualsUnfused() throws {
    #if arch(x86_64)
      let avx2 = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.contains(" avx2") ?? false
    #else
      let avx2 = false
    #endif
    let models = [
      try QLinearConvTestModels.model(),
      try QLinearConvTestModels.model(channels: 32, outputs: 40, kernel: 1, size: 9, output: "int8"),
      try QLinearConvTestModels.model(group: 2, output: "int8"),
      // 77 panels of 1,225 columns: at one thread a block of 56 panels (columnBlockBytes over 576
      // bytes a column), cut inside an output row, then the rest.
      try QLinearConvTestModels.model(channels: 64, outputs: 16, kernel: 3, size: 35),
    ]
    for (index, model) in models.enumerated() {
      let feeds = [
        QLinearConvTestModels.inputs(model, seed: 3, zeroPoint: 0),
        QLinearConvTestModels.inputs(model, seed: 4, zeroPoint: 2),
      ]
      for mode in [ExecutionOptions.Requantization.float, .fixedPoint] {
        for threads in [1, 2] {
          qat_requantize_set_portable(0)
          let fused = try QLinearConvTestModels.outputs(model, feeds, threads: threads, mode: mode)
          qat_requantize_set_portable(1)
          let unfused = try QLinearConvTestModels.outputs(model, feeds, threads: threads, mode: mode)
          qat_requantize_set_portable(0)
          XCTAssertEqual(fused, unfused, "model \(index), \(mode), \(threads) threads")
          XCTAssertGreaterThan(Set(fused[0]).count, 20, "model \(index): outputs spread over the range")
        }
      }
    }
    var parameters = qat_requantization(
      fixed_point: 0, scale: 0.5, multiplier: 0, shift: 0, bias: 0, zero_point: 0, minimum: 0, maximum: 255)
    XCTAssertEqual(qat_requantize_int8_supported(&parameters, 0) != 0, avx2, "the fused path is the one compared")
  }
}
