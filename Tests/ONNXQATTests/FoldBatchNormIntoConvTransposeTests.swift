import Foundation
import XCTest

@testable import ONNXQAT

/// FoldBatchNormIntoConvTranspose: the output channel of group gi, index j, is gi * (M/g) + j.
final class FoldBatchNormIntoConvTransposeTests: XCTestCase {
  private let rule = "fold-batchnorm-into-conv-transpose"

  /// ConvTranspose with 4 input channels, `groups` groups and 3 output channels per group,
  /// stride 2, followed by a BatchNormalization over its 3 * groups channels.
  private func convTransposeBatchNorm(groups: Int, bias: Bool, seed: UInt64) -> String {
    let outputs = 3 * groups
    var numbers = BatchNormTestSupport.Numbers(seed: seed)
    let constants =
      [numbers.initializer("w", [4, 3, 2, 2])] + (bias ? [numbers.initializer("tb", [outputs])] : [])
      + [numbers.batchNorm("bn", channels: outputs)]
    return """
      <ir_version: 8, opset_import: ["" : 15]>
      g (float[2,4,3,3] x) => (float[2,\(outputs),6,6] y) <\(constants.joined(separator: ", "))> {
        [up] t = ConvTranspose <group = \(groups), strides = [2, 2]> (x, w\(bias ? ", tb" : ""))
        [bn] y = BatchNormalization (t, \(BatchNormTestSupport.parameters("bn")))
      }
      """
  }

  func testFoldsWithOneGroup() throws {
    for bias in [false, true] {
      let (model, _) = try BatchNormTestSupport.assertRewrites(
        convTransposeBatchNorm(groups: 1, bias: bias, seed: bias ? 11 : 12), fired: [rule: 1], ops: ["ConvTranspose"])
      XCTAssertEqual(model.graph.nodes.first?.inputs.count, 3)
    }
  }

  /// Two groups: with channel-dependent statistics, a fold that mixed up the groups' output
  /// channels would fail the numeric comparison (through our executor and onnxruntime).
  func testFoldsWithTwoGroups() throws {
    for bias in [false, true] {
      let text = convTransposeBatchNorm(groups: 2, bias: bias, seed: bias ? 13 : 14)
      let (model, _) = try BatchNormTestSupport.assertRewrites(text, fired: [rule: 1], ops: ["ConvTranspose"])
      try BatchNormTestSupport.assertSameOutputsInOrt(try RewriteTestSupport.model(text), model)
    }
  }

  /// A bias that is a graph input cannot absorb the shift; the BatchNormalization is decomposed.
  func testRefusesNonConstantBias() throws {
    let text = convTransposeBatchNorm(groups: 2, bias: true, seed: 15)
      .replacingOccurrences(of: "(float[2,4,3,3] x)", with: "(float[2,4,3,3] x, float[6] tb)")
    let (model, _, log) = try BatchNormTestSupport.assertRefuses(
      text, rule: rule,
      reason: "skip 9: bias 'tb' of ConvTranspose 'up' is not a constant float32 initializer of shape [6]",
      unchanged: false)
    XCTAssertEqual(log.count("decompose-batchnorm"), 1)
    XCTAssertEqual(model.graph.nodes.map(\.opType), ["ConvTranspose", "Mul", "Add"])
  }
}
