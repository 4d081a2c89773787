import Foundation
import XCTest

@testable import ONNXQAT

/// `run --json`'s per-output statistics: min, max and mean over the elements that are not NaN,
/// summed in element order in Double (so the mean is exactly the sequential sum's), with
/// non-finite results reported as absent.
final class RunReportStatisticsTests: XCTestCase {
  private func expected(_ values: [Double]) -> (Double?, Double?, Double?) {
    let kept = values.filter { !$0.isNaN }
    guard !kept.isEmpty else { return (nil, nil, nil) }
    var sum = 0.0
    for value in kept { sum += value }
    let finite = { (value: Double) -> Double? in value.isFinite ? value : nil }
    return (finite(kept.min() ?? .nan), finite(kept.max() ?? .nan), finite(sum / Double(kept.count)))
  }

  func testFloatStatisticsSkipNaNAndDropNonFinite() {
    var generator = SystemRandomNumberGenerator()
    let random = (0..<1001).map { _ in Float.random(in: -3...3, using: &generator) }
    let cases: [[Float]] = [
      random, random + [.nan, .nan], [.nan, .nan], [1, .infinity, 2], [-.infinity, 0.5], [2.5], [],
    ]
    for values in cases {
      let output = RunReport.Output(
        name: "y", tensor: HostTensor(.float, shape: [values.count], values: values), file: nil)
      let (low, high, mean) = expected(values.map(Double.init))
      XCTAssertEqual(output.min, low, "\(values.prefix(4))")
      XCTAssertEqual(output.max, high, "\(values.prefix(4))")
      XCTAssertEqual(output.mean, mean, "\(values.prefix(4))")
    }
  }

  func testIntegerStatistics() {
    let values: [Int8] = [-128, 5, 127, 0, -3]
    let output = RunReport.Output(name: "q", tensor: HostTensor(.int8, shape: [5], values: values), file: nil)
    XCTAssertEqual(output.min, -128)
    XCTAssertEqual(output.max, 127)
    XCTAssertEqual(output.mean, 1.0 / 5.0)
    XCTAssertEqual(output.dtype, "int8")
  }
}
