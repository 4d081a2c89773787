import Foundation
import XCTest

@testable import ONNXQAT

/// FoldAddIntoConvBias: a per-channel constant added after a Conv becomes (part of) its bias.
final class FoldAddIntoConvBiasTests: XCTestCase {
  private let rule = "fold-add-into-conv-bias"

  /// Conv (4 output channels, optional bias) then `y = Add(<operands>)` with a constant k of `kShape`.
  private func convAdd(kShape: [Int], bias: Bool, constantFirst: Bool, seed: UInt64, width: Int = 5) -> String {
    var numbers = BatchNormTestSupport.Numbers(seed: seed)
    let constants =
      [numbers.initializer("w", [4, 3, 3, 3]), numbers.initializer("k", kShape)]
      + (bias ? [numbers.initializer("cb", [4])] : [])
    return """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,3,5,\(width)] x) => (float[2,4,5,\(width)] y) <\(constants.joined(separator: ", "))> {
        [conv] c = Conv <pads = [1, 1, 1, 1]> (x, w\(bias ? ", cb" : ""))
        [add] y = Add (\(constantFirst ? "k, c" : "c, k"))
      }
      """
  }

  func testFoldsChannelConstantIntoNewBias() throws {
    let (model, _) = try BatchNormTestSupport.assertRewrites(
      convAdd(kShape: [4, 1, 1], bias: false, constantFirst: true, seed: 41), fired: [rule: 1], ops: ["Conv"])
    XCTAssertEqual(model.graph.nodes.first?.inputs.compactMap { $0?.name }, ["x", "w", "k_bias"])
    XCTAssertEqual(model.graph.nodes.first?.output?.name, "y")
  }

  func testAddsToExistingBias() throws {
    for (index, shape) in [[1, 4, 1, 1], [1], [1, 1, 1]].enumerated() {
      let (model, _) = try BatchNormTestSupport.assertRewrites(
        convAdd(kShape: shape, bias: true, constantFirst: index == 1, seed: 42 + UInt64(index)),
        fired: [rule: 1], ops: ["Conv"])
      XCTAssertEqual(model.graph.initializers.map(\.name).sorted(), ["cb_bias", "w"])
    }
  }

  func testRefusesConstantVaryingOffTheChannelAxis() throws {
    try BatchNormTestSupport.assertRefuses(
      convAdd(kShape: [4, 5, 5], bias: false, constantFirst: false, seed: 45), rule: rule,
      reason: "skip 3: 'k' of shape [4, 5, 5] added to Conv 'conv' does not broadcast along the channel axis only")
    // [4] broadcasts along the last axis (width 4 here), not along the channels.
    try BatchNormTestSupport.assertRefuses(
      convAdd(kShape: [4], bias: false, constantFirst: false, seed: 46, width: 4), rule: rule,
      reason: "skip 3: 'k' of shape [4] added to Conv 'conv' does not broadcast along the channel axis only")
  }

  func testRefusesConvOutputWithTwoUses() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 47)
    let text = """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,3,5,5] x) => (float[2,4,5,5] y, float[2,4,5,5] c) <\(numbers.initializer("w", [4, 3, 3, 3])), \
      \(numbers.initializer("k", [4, 1, 1]))> {
        [conv] c = Conv <pads = [1, 1, 1, 1]> (x, w)
        [add] y = Add (c, k)
      }
      """
    try BatchNormTestSupport.assertRefuses(
      text, rule: rule, reason: "skip 1: output 'c' of Conv 'conv' has other uses or is a graph output")
  }

  /// Add of two Convs is not the pattern: nothing is refused.
  func testIgnoresAddOfTwoConvs() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 48)
    let text = """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,3,5,5] x) => (float[2,4,5,5] y) <\(numbers.initializer("w", [4, 3, 3, 3]))> {
        c1 = Conv <pads = [1, 1, 1, 1]> (x, w)
        c2 = Conv <pads = [1, 1, 1, 1]> (x, w)
        y = Add (c1, c2)
      }
      """
    let model = try RewriteTestSupport.model(text)
    let log = try BatchNormTestSupport.run(model)
    XCTAssertEqual(log.firings.count, 0)
    XCTAssertEqual(log.refusals.count, 0)
  }

  /// Conv -> Add(k) -> BatchNormalization folds completely: the Add into the bias, then the
  /// BatchNormalization into the Conv.
  func testAddThenBatchNormFoldsCompletely() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 49)
    let text = """
      <ir_version: 8, opset_import: ["" : 15]>
      g (float[2,3,5,5] x) => (float[2,4,5,5] y) <\(numbers.initializer("w", [4, 3, 3, 3])), \
      \(numbers.initializer("k", [1, 4, 1, 1])), \(numbers.batchNorm("bn", channels: 4))> {
        [conv] c = Conv <pads = [1, 1, 1, 1]> (x, w)
        [add] a = Add (c, k)
        [bn] y = BatchNormalization (a, \(BatchNormTestSupport.parameters("bn")))
      }
      """
    let (model, _) = try BatchNormTestSupport.assertRewrites(
      text, fired: [rule: 1, "fold-batchnorm-into-conv": 1], ops: ["Conv"])
    XCTAssertEqual(model.graph.initializers.count, 2)
  }
}
