import Foundation
import XCTest

@testable import ONNXQAT

/// FoldBatchNormIntoGemm: columns of B' (rows of B when transB = 1) and C absorb the BatchNormalization.
final class FoldBatchNormIntoGemmTests: XCTestCase {
  private let rule = "fold-batchnorm-into-gemm"

  /// a [3, 6] (or [6, 3] with transA) times B to N = 5 columns, with `attributes` and C of
  /// shape `cShape` (none when nil), then a BatchNormalization over the 5 columns.
  private func gemmBatchNorm(
    transA: Bool = false, transB: Bool, cShape: [Int]?, attributes: [String] = [], seed: UInt64
  ) -> String {
    var numbers = BatchNormTestSupport.Numbers(seed: seed)
    let constants =
      [numbers.initializer("b", transB ? [5, 6] : [6, 5])]
      + (cShape.map { [numbers.initializer("c", $0)] } ?? []) + [numbers.batchNorm("bn", channels: 5)]
    let allAttributes = attributes + (transA ? ["transA = 1"] : []) + (transB ? ["transB = 1"] : [])
    let attributeText = allAttributes.isEmpty ? "" : "<\(allAttributes.joined(separator: ", "))> "
    return """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[\(transA ? "6,3" : "3,6")] a) => (float[3,5] y) <\(constants.joined(separator: ", "))> {
        [fc] p = Gemm \(attributeText)(a, b\(cShape == nil ? "" : ", c"))
        [bn] y = BatchNormalization (p, \(BatchNormTestSupport.parameters("bn")))
      }
      """
  }

  func testFoldsWithTransBZeroAndBiasOfShapeN() throws {
    let (model, _) = try BatchNormTestSupport.assertRewrites(
      gemmBatchNorm(transB: false, cShape: [5], seed: 21), fired: [rule: 1], ops: ["Gemm"])
    XCTAssertEqual(model.graph.nodes.first?.inputs.compactMap { $0?.name }, ["a", "b", "c"])
  }

  func testFoldsWithTransBOneWithoutC() throws {
    let (model, _) = try BatchNormTestSupport.assertRewrites(
      gemmBatchNorm(transB: true, cShape: nil, attributes: ["alpha = 0.5"], seed: 22), fired: [rule: 1], ops: ["Gemm"])
    XCTAssertEqual(model.graph.nodes.first?.inputs.count, 3)
  }

  /// beta is folded into C and dropped; alpha stays; C broadcast from [1, N], [1] or a scalar
  /// (compared in onnxruntime too).
  func testFoldsAlphaBetaAndBroadcastC() throws {
    for (index, cShape) in [[1, 5], [1], []].enumerated() {
      let text = gemmBatchNorm(
        transA: index == 0, transB: index != 1, cShape: cShape, attributes: ["alpha = 0.5", "beta = 2.0"],
        seed: 23 + UInt64(index))
      let (model, _) = try BatchNormTestSupport.assertRewrites(text, fired: [rule: 1], ops: ["Gemm"])
      try BatchNormTestSupport.assertSameOutputsInOrt(try RewriteTestSupport.model(text), model)
      let gemm = try XCTUnwrap(model.graph.nodes.first)
      XCTAssertNil(gemm.attribute("beta"))
      XCTAssertEqual(gemm.float("alpha", default: 1), 0.5)
    }
  }

  /// C of shape [M, N] varies along rows: no fold; the BatchNormalization is decomposed.
  func testRefusesCVaryingAlongRows() throws {
    let (model, before, log) = try BatchNormTestSupport.assertRefuses(
      gemmBatchNorm(transB: false, cShape: [3, 5], seed: 26), rule: rule,
      reason: "skip 9: C 'c' of Gemm 'fc' is not a constant float32 initializer broadcast along rows ([5])",
      unchanged: false)
    XCTAssertEqual(log.count("decompose-batchnorm"), 1)
    XCTAssertEqual(model.graph.nodes.map(\.opType), ["Gemm", "Mul", "Add"])
    try RewriteTestSupport.assertSameOutputs(before, model)
  }

  func testRefusesNonConstantB() throws {
    let text = gemmBatchNorm(transB: true, cShape: [5], seed: 27)
      .replacingOccurrences(of: "(float[3,6] a)", with: "(float[3,6] a, float[5,6] b)")
    try BatchNormTestSupport.assertRefuses(
      text, rule: rule, reason: "skip 8: B of Gemm 'fc' is not a constant float32 initializer of shape [5, K]",
      unchanged: false)
  }
}
