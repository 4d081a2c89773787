import Foundation
import XCTest

@testable import ONNXQAT

/// The vectorized float Softmax (`SoftmaxFloatRows`) against a double-precision reference, within
/// a stated tolerance (its exponentials are within a few ulp of libm's, not libm's bits), and its
/// exact cases: masked positions (-inf, -1e9) give 0, a NaN row gives NaN, +inf gives what the
/// scalar path gives.
final class SoftmaxFloatRowsTests: XCTestCase {
  /// The softmax of `row` in double precision.
  private func reference(_ row: [Float]) -> [Double] {
    let maximum = Double(row.max() ?? 0)
    let e = row.map { Foundation.exp(Double($0) - maximum) }
    let sum = e.reduce(0, +)
    return e.map { $0 / sum }
  }

  private func softmax(_ row: [Float]) -> [Float] {
    var x = row
    var y = [Float](repeating: .nan, count: row.count)
    x.withUnsafeMutableBufferPointer { input in
      y.withUnsafeMutableBufferPointer { output in
        guard let xBase = input.baseAddress, let yBase = output.baseAddress else { return }
        SoftmaxFloatRows.softmax(xBase, yBase, n: row.count)
      }
    }
    return y
  }

  /// Rows of every length up to 40 and 128, values over a range of 60: each element within a
  /// relative 1e-5 (float sums of up to 128 terms; and 1e-30 absolute, for the tiny ones) of the double-precision softmax.
  func testRowsMatchTheDoublePrecisionSoftmax() {
    var state: UInt64 = 7
    for n in Array(1...40) + [128] {
      let row = (0..<n).map { _ -> Float in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int(state >> 40) % 60_000) / 1000 - 30
      }
      for (got, want) in zip(softmax(row), reference(row)) {
        XCTAssertEqual(Double(got), want, accuracy: max(1e-5 * want, 1e-30), "n \(n)")
      }
    }
  }

  func testMaskedPositionsAreExactlyZero() {
    let row: [Float] = [1, -.infinity, 2, -1e9, 0.5, -200, 3, -.infinity, 1.5]
    let y = softmax(row)
    for index in [1, 3, 5, 7] { XCTAssertEqual(y[index], 0, "position \(index)") }
    XCTAssertEqual(Double(y.reduce(0, +)), 1, accuracy: 1e-6)
  }

  func testNaNAndInfinityFollowTheScalarPath() throws {
    for row: [Float] in [[1, .nan, 2, 3, 4, 5, 6, 7, 8, 9], [1, .infinity, 2], [-.infinity, -.infinity]] {
      let y = softmax(row)
      let x = HostTensor(.float, shape: [1, row.count], values: row)
      var scalar = [Float](repeating: 0, count: row.count)
      withExtendedLifetime(x) {
        scalar.withUnsafeMutableBufferPointer { output in
          guard let base = output.baseAddress else { return }
          ElementwiseSoftmax.run(x.pointer(Float.self), base, outer: 1, n: row.count, inner: 1, mode: .softmax)
        }
      }
      XCTAssertTrue(y.contains { $0.isNaN }, "\(row)")
      XCTAssertEqual(y.map(\.isNaN), scalar.map(\.isNaN), "\(row)")
    }
  }

  /// The Softmax node takes the vector path on its last axis and the scalar path elsewhere; both
  /// agree within the tolerance above.
  func testNodeAlongLastAxisAgreesWithOtherAxes() throws {
    let values: [Float] = (0..<60).map { (index: Int) -> Float in Float((index * 37) % 23) / 4 - 2 }
    // x[row, column] = values[row * 20 + column]; transposed[column, row] the same element.
    let swapped: [Float] = (0..<60).map { (index: Int) -> Float in values[(index % 3) * 20 + index / 3] }
    let x = HostTensor(.float, shape: [3, 20], values: values)
    let transposed = HostTensor(.float, shape: [20, 3], values: swapped)
    let last = try SingleNodeRun.run("Softmax", opset: 13, inputs: [x], attributes: [.int("axis", -1)])[0]
    let first = try SingleNodeRun.run("Softmax", opset: 13, inputs: [transposed], attributes: [.int("axis", 0)])[0]
    let a: [Float] = last.values(Float.self)
    let b: [Float] = first.values(Float.self)
    for index in 0..<60 {
      let tolerance: Float = 1e-5 * b[index] + 1e-30
      XCTAssertEqual(a[(index % 3) * 20 + index / 3], b[index], accuracy: tolerance)
    }
  }
}
