import Foundation
import XCTest

@testable import ONNXQAT

/// Calibration's per-tensor statistics, eight lanes at a time, against the definition element by
/// element: count, non-finite count, minimum and maximum exactly; sum and sum of squares (summed
/// in Double in another order) within 1e-12 relative. Lengths 0-41 and 1,003 put non-finite
/// values in the vector part and in the tail.
final class TensorStatisticsTests: XCTestCase {
  func testVectorStatisticsEqualTheDefinition() {
    var generator = SystemRandomNumberGenerator()
    for length in Array(0...41) + [1003] {
      for withNonFinite in [false, true] {
        var values = (0..<length).map { _ in Float.random(in: -5...7, using: &generator) }
        if withNonFinite && length > 0 {
          for special: Float in [.nan, .infinity, -.infinity, -.nan] {
            values[Int.random(in: 0..<length, using: &generator)] = special
          }
        }
        var statistics = TensorStatistics(histogramBins: nil)
        values.withUnsafeBufferPointer { statistics.add($0) }
        let finite = values.filter(\.isFinite)
        let label = "length \(length), non-finite \(withNonFinite)"
        XCTAssertEqual(statistics.count, finite.count, label)
        XCTAssertEqual(statistics.nonFiniteCount, length - finite.count, label)
        XCTAssertEqual(statistics.samples, finite.isEmpty ? 0 : 1, label)
        guard let low = finite.min(), let high = finite.max() else { continue }
        XCTAssertEqual(statistics.min, low, label)
        XCTAssertEqual(statistics.max, high, label)
        let sum = finite.reduce(0.0) { $0 + Double($1) }
        let squares = finite.reduce(0.0) { $0 + Double($1) * Double($1) }
        let magnitude = finite.reduce(0.0) { $0 + abs(Double($1)) }
        XCTAssertEqual(statistics.sum, sum, accuracy: 1e-12 * max(1, magnitude), label)
        XCTAssertEqual(statistics.sumOfSquares, squares, accuracy: 1e-12 * max(1, squares), label)
      }
    }
  }
}
