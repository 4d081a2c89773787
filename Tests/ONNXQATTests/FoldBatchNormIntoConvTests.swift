import Foundation
import XCTest

@testable import ONNXQAT

/// FoldBatchNormIntoConv, and the skip cases every batch-norm rule shares (BatchNormAffine's).
final class FoldBatchNormIntoConvTests: XCTestCase {
  private let rule = "fold-batchnorm-into-conv"

  /// Conv(x, w[, cb]) -> BatchNormalization -> y (a graph output) at `opset`.
  private func convBatchNorm(
    opset: Int, bias: Bool = true, bnAttributes: String = "<epsilon = 0.001>", seed: UInt64 = 1,
    extraOutputs: String = ""
  ) -> String {
    var numbers = BatchNormTestSupport.Numbers(seed: seed)
    let constants =
      [numbers.initializer("w", [4, 3, 3, 3])] + (bias ? [numbers.initializer("cb", [4])] : [])
      + [numbers.batchNorm("bn", channels: 4)]
    return """
      <ir_version: 8, opset_import: ["" : \(opset)]>
      g (float[2,3,5,5] x) => (float[2,4,5,5] y) <\(constants.joined(separator: ", "))> {
        [conv] c = Conv <pads = [1, 1, 1, 1]> (x, w\(bias ? ", cb" : ""))
        [bn] y\(extraOutputs) = BatchNormalization \(bnAttributes) (c, \(BatchNormTestSupport.parameters("bn")))
      }
      """
  }

  func testFoldsIntoConvWithBiasKeepingGraphOutputName() throws {
    let (model, _) = try BatchNormTestSupport.assertRewrites(
      convBatchNorm(opset: 15), fired: [rule: 1], ops: ["Conv"])
    let conv = try XCTUnwrap(model.graph.nodes.first)
    XCTAssertEqual(conv.output?.name, "y")
    XCTAssertEqual(
      conv.inputs.compactMap { $0?.name }, ["x", "w", "cb"], "initializers only the Conv used keep their names")
    XCTAssertEqual(model.graph.initializers.map(\.name).sorted(), ["cb", "w"])
  }

  /// The BatchNormalization versions whose inference form differs in attributes: 7 (spatial),
  /// 9 (no spatial), 14 (training_mode), 15 (statistics types may differ). No Conv bias: one is added.
  func testFoldsAtEveryBatchNormVersion() throws {
    let attributes = [7: "<epsilon = 0.001, spatial = 1>", 9: "", 14: "<training_mode = 0>", 15: "<momentum = 0.8>"]
    for (opset, bnAttributes) in attributes.sorted(by: { $0.key < $1.key }) {
      let (model, _) = try BatchNormTestSupport.assertRewrites(
        convBatchNorm(opset: opset, bias: false, bnAttributes: bnAttributes, seed: UInt64(opset)),
        fired: [rule: 1], ops: ["Conv"])
      XCTAssertEqual(model.graph.nodes.first?.inputs.count, 3, "opset \(opset): the Conv has a bias")
    }
  }

  /// Opset 6: is_test = 1 folds (checked through our executor; onnxruntime has no BatchNormalization 6).
  func testFoldsOpset6InTestMode() throws {
    try BatchNormTestSupport.assertRewrites(
      convBatchNorm(opset: 6, bnAttributes: "<is_test = 1>"), fired: [rule: 1], ops: ["Conv"], ort: false)
  }

  func testRefusesOpset6TrainingMode() throws {
    try BatchNormTestSupport.assertRefuses(
      convBatchNorm(opset: 6, bnAttributes: "<is_test = 0>"), rule: rule,
      reason: "skip 1: BatchNormalization 'bn' is in training mode (is_test = 0 in opset 6)")
  }

  func testRefusesTrainingMode() throws {
    let (_, _, log) = try BatchNormTestSupport.assertRefuses(
      convBatchNorm(opset: 14, bnAttributes: "<training_mode = 1>", extraOutputs: ", rm, rv"), rule: rule,
      reason: "skip 1: BatchNormalization 'bn' is in training mode (training_mode = 1)")
    XCTAssertEqual(log.count("decompose-batchnorm"), 0)
  }

  func testRefusesSpatialZero() throws {
    try BatchNormTestSupport.assertRefuses(
      convBatchNorm(opset: 7, bnAttributes: "<spatial = 0>"), rule: rule,
      reason: "skip 2: BatchNormalization 'bn' has spatial = 0 (statistics per element, not per channel)")
  }

  /// Opset 9 BatchNormalization with its running mean used: not inference form.
  func testRefusesWhenStatisticsOutputIsUsed() throws {
    let text = convBatchNorm(opset: 9, bnAttributes: "", extraOutputs: ", rm, rv, sm, sv")
      .replacingOccurrences(of: "=> (float[2,4,5,5] y)", with: "=> (float[2,4,5,5] y, float[4] rm)")
    try BatchNormTestSupport.assertRefuses(
      text, rule: rule, reason: "skip 3: output 'rm' of BatchNormalization 'bn' is used; only Y may be")
  }

  func testRefusesNonConstantScale() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 4)
    let text = """
      <ir_version: 8, opset_import: ["" : 15]>
      g (float[2,3,5,5] x, float[4] bn_scale) => (float[2,4,5,5] y) <\(numbers.initializer("w", [4, 3, 1, 1])), \
      \(numbers.initializer("bn_b", [4])), \(numbers.initializer("bn_mean", [4])), \
      \(numbers.initializer("bn_var", [4], 0.1, 2))> {
        [conv] c = Conv (x, w)
        [bn] y = BatchNormalization (c, \(BatchNormTestSupport.parameters("bn")))
      }
      """
    let (_, _, log) = try BatchNormTestSupport.assertRefuses(
      text, rule: rule, reason: "skip 4: scale of BatchNormalization 'bn' is not a constant initializer")
    XCTAssertEqual(log.count("decompose-batchnorm"), 0)
  }

  /// An initializer that is also a graph input (IR 4 and later) is a default a caller may
  /// override, so it is not a constant.
  func testRefusesOverridableInitializer() throws {
    let text = convBatchNorm(opset: 15).replacingOccurrences(
      of: "(float[2,3,5,5] x)", with: "(float[2,3,5,5] x, float[4] bn_mean)")
    try BatchNormTestSupport.assertRefuses(
      text, rule: rule, reason: "skip 4: mean of BatchNormalization 'bn' is not a constant initializer")
  }

  func testRefusesZeroVariance() throws {
    let text = """
      <ir_version: 8, opset_import: ["" : 15]>
      g (float[1,1,2,2] x) => (float[1,2,2,2] y) <float[2,1,1,1] w = {1.0, 2.0}, float[2] s = {1.0, 1.0}, \
      float[2] b = {0.0, 0.0}, float[2] m = {0.0, 0.0}, float[2] v = {1.0, 0.0}> {
        [conv] c = Conv (x, w)
        [bn] y = BatchNormalization <epsilon = 0.0> (c, s, b, m, v)
      }
      """
    try BatchNormTestSupport.assertRefuses(
      text, rule: rule,
      reason:
        "skip 6: var + epsilon of BatchNormalization 'bn' is not positive or the result is not finite at channel 1")
  }

  /// The Conv's output also feeds a Relu: no fold (the Relu needs the unnormalized values); the
  /// BatchNormalization is decomposed instead, and both outputs stay right.
  func testConvOutputWithTwoUsesIsNotFolded() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 5)
    let text = """
      <ir_version: 8, opset_import: ["" : 15]>
      g (float[2,3,5,5] x) => (float[2,4,5,5] y, float[2,4,5,5] r) <\(numbers.initializer("w", [4, 3, 3, 3])), \
      \(numbers.batchNorm("bn", channels: 4))> {
        [conv] c = Conv <pads = [1, 1, 1, 1]> (x, w)
        [bn] y = BatchNormalization (c, \(BatchNormTestSupport.parameters("bn")))
        r = Relu (c)
      }
      """
    let (model, before, log) = try BatchNormTestSupport.assertRefuses(
      text, rule: rule, reason: "skip 7: output 'c' of Conv 'conv' has other uses or is a graph output",
      unchanged: false)
    XCTAssertEqual(log.count("decompose-batchnorm"), 1)
    XCTAssertEqual(model.graph.nodes.map(\.opType), ["Conv", "Mul", "Add", "Relu"])
    XCTAssertEqual(model.graph.nodes.first?.inputs.compactMap { $0?.name }, ["x", "w"])
    try RewriteTestSupport.assertSameOutputs(before, model)
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
  }

  /// One weight used by three Convs, two of them followed by a BatchNormalization: each fold
  /// writes its own folded weight and the third Conv keeps the original one.
  func testSharedWeightGetsNewInitializers() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 6)
    let text = """
      <ir_version: 8, opset_import: ["" : 15]>
      g (float[2,3,5,5] x) => (float[2,4,5,5] y1, float[2,4,5,5] y2, float[2,4,5,5] y3) \
      <\(numbers.initializer("w", [4, 3, 3, 3])), \(numbers.batchNorm("bn1", channels: 4)), \
      \(numbers.batchNorm("bn2", channels: 4))> {
        [conv1] c1 = Conv <pads = [1, 1, 1, 1]> (x, w)
        [bn1] y1 = BatchNormalization (c1, \(BatchNormTestSupport.parameters("bn1")))
        [conv2] c2 = Conv <pads = [1, 1, 1, 1]> (x, w)
        [bn2] y2 = BatchNormalization (c2, \(BatchNormTestSupport.parameters("bn2")))
        [conv3] y3 = Conv <pads = [1, 1, 1, 1]> (x, w)
      }
      """
    let (model, _) = try BatchNormTestSupport.assertRewrites(text, fired: [rule: 2], ops: ["Conv", "Conv", "Conv"])
    XCTAssertEqual(model.graph.nodes.map { $0.input(1)?.name }, ["w_folded", "w_folded_1", "w"])
    XCTAssertEqual(model.graph.nodes.map { $0.output?.name }, ["y1", "y2", "y3"])
  }

  /// Two BatchNormalizations in a row fold one after the other (the first one's output has a
  /// declared type, which stays valid).
  func testFoldsTwoBatchNormsInARow() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 7)
    let text = """
      <ir_version: 8, opset_import: ["" : 15]>
      g (float[2,3,5,5] x) => (float[2,4,5,5] y) <\(numbers.initializer("w", [4, 3, 3, 3])), \
      \(numbers.batchNorm("bn1", channels: 4)), \(numbers.batchNorm("bn2", channels: 4)), float[2,4,5,5] b> {
        [conv] c = Conv <pads = [1, 1, 1, 1]> (x, w)
        [bn1] b = BatchNormalization (c, \(BatchNormTestSupport.parameters("bn1")))
        [bn2] y = BatchNormalization (b, \(BatchNormTestSupport.parameters("bn2")))
      }
      """
    let (model, _) = try BatchNormTestSupport.assertRewrites(text, fired: [rule: 2], ops: ["Conv"])
    XCTAssertEqual(model.graph.initializers.count, 2)
  }
}
