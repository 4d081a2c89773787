import Foundation
import XCTest

@testable import ONNXQAT

/// DecomposeBatchNorm: a BatchNormalization no fold removed becomes Mul and Add of per-channel constants.
final class DecomposeBatchNormTests: XCTestCase {
  private let rule = "decompose-batchnorm"

  private func batchNorm(_ shape: [Int], attributes: String = "", seed: UInt64) -> String {
    var numbers = BatchNormTestSupport.Numbers(seed: seed)
    let dims = shape.map(String.init).joined(separator: ",")
    return """
      <ir_version: 8, opset_import: ["" : 15]>
      g (float[\(dims)] x) => (float[\(dims)] y) <\(numbers.batchNorm("bn", channels: shape[1]))> {
        [bn] y = BatchNormalization \(attributes)(x, \(BatchNormTestSupport.parameters("bn")))
      }
      """
  }

  func testDecomposesRankFour() throws {
    let (model, _) = try BatchNormTestSupport.assertRewrites(
      batchNorm([2, 3, 4, 4], attributes: "<epsilon = 0.01> ", seed: 51), fired: [rule: 1], ops: ["Mul", "Add"])
    XCTAssertEqual(model.graph.initializers.map { $0.initializer?.dims ?? [] }, [[3, 1, 1], [3, 1, 1]])
    XCTAssertEqual(model.graph.nodes.map(\.name), ["bn_mul", "bn"])
    XCTAssertEqual(model.graph.nodes.last?.output?.name, "y")
  }

  func testDecomposesRankTwoAndThree() throws {
    for shape in [[5, 3], [2, 3, 7]] {
      let (model, _) = try BatchNormTestSupport.assertRewrites(
        batchNorm(shape, seed: UInt64(shape.count)), fired: [rule: 1], ops: ["Mul", "Add"])
      XCTAssertEqual(
        model.graph.initializers.first?.initializer?.dims, [3] + Array(repeating: 1, count: shape.count - 2))
    }
  }

  /// The statistics are batch statistics in training mode: nothing to decompose.
  func testRefusesTrainingMode() throws {
    let text = batchNorm([2, 3, 4, 4], attributes: "<training_mode = 1> ", seed: 53)
      .replacingOccurrences(of: "[bn] y =", with: "[bn] y, rm, rv =")
    try BatchNormTestSupport.assertRefuses(
      text, rule: rule, reason: "skip 1: BatchNormalization 'bn' is in training mode (training_mode = 1)")
  }

  /// A variance that is also a graph input may be overridden: not a constant.
  func testRefusesOverridableVariance() throws {
    let text = batchNorm([2, 3, 4, 4], seed: 54)
      .replacingOccurrences(of: "(float[2,3,4,4] x)", with: "(float[2,3,4,4] x, float[3] bn_var)")
    try BatchNormTestSupport.assertRefuses(
      text, rule: rule, reason: "skip 4: var of BatchNormalization 'bn' is not a constant initializer")
  }
}
