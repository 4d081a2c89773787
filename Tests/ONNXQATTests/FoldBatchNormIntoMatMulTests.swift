import Foundation
import XCTest

@testable import ONNXQAT

/// FoldBatchNormIntoMatMul: only a 2-D MatMul output has its columns on the channel axis.
final class FoldBatchNormIntoMatMulTests: XCTestCase {
  private let rule = "fold-batchnorm-into-matmul"

  private func matmulBatchNorm(aShape: [Int], outputShape: [Int], weight: [Int], channels: Int, seed: UInt64)
    -> String
  {
    var numbers = BatchNormTestSupport.Numbers(seed: seed)
    let a = aShape.map(String.init).joined(separator: ",")
    let y = outputShape.map(String.init).joined(separator: ",")
    return """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[\(a)] a) => (float[\(y)] y) <\(numbers.initializer("w", weight)), \
      \(numbers.batchNorm("bn", channels: channels))> {
        [mm] p = MatMul (a, w)
        [bn] y = BatchNormalization (p, \(BatchNormTestSupport.parameters("bn")))
      }
      """
  }

  func testFoldsTwoDimensionalMatMul() throws {
    let (model, _) = try BatchNormTestSupport.assertRewrites(
      matmulBatchNorm(aShape: [3, 6], outputShape: [3, 4], weight: [6, 4], channels: 4, seed: 31),
      fired: [rule: 1], ops: ["MatMul", "Add"])
    let add = try XCTUnwrap(model.graph.nodes.last)
    XCTAssertEqual(add.name, "bn")
    XCTAssertEqual(add.output?.name, "y")
    XCTAssertEqual(model.graph.nodes.first?.input(1)?.name, "w_folded")
  }

  /// The BatchNormalization's output is not a graph output: the Add still takes its name.
  func testFoldKeepsIntermediateName() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 32)
    let text = """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[3,6] a) => (float[3,4] r) <\(numbers.initializer("w", [6, 4])), \
      \(numbers.batchNorm("bn", channels: 4))> {
        [mm] p = MatMul (a, w)
        [bn] y = BatchNormalization (p, \(BatchNormTestSupport.parameters("bn")))
        r = Relu (y)
      }
      """
    let (model, _) = try BatchNormTestSupport.assertRewrites(text, fired: [rule: 1], ops: ["MatMul", "Add", "Relu"])
    XCTAssertEqual(model.graph.nodes[1].output?.name, "y")
  }

  /// [2, 4, 6] x [6, 4]: the output is [2, 4, 4], whose channel axis 1 is not W's column axis.
  func testRefusesThreeDimensionalMatMul() throws {
    let (model, before, log) = try BatchNormTestSupport.assertRefuses(
      matmulBatchNorm(aShape: [2, 4, 6], outputShape: [2, 4, 4], weight: [6, 4], channels: 4, seed: 33), rule: rule,
      reason: "skip 10: output 'p' of MatMul 'mm' has rank 3; the channel axis 1 is its last axis only for rank 2",
      unchanged: false)
    XCTAssertEqual(log.count("decompose-batchnorm"), 1)
    try RewriteTestSupport.assertSameOutputs(before, model)
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
  }

  /// No declared shape anywhere near the MatMul: its rank is unknown, and DecomposeBatchNorm
  /// cannot run either.
  func testRefusesUnknownRank() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 34)
    let text = """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[3,6] x) => (float[3,4] r) <\(numbers.initializer("w", [6, 4])), \
      \(numbers.batchNorm("bn", channels: 4))> {
        a = Relu (x)
        [mm] p = MatMul (a, w)
        [bn] y = BatchNormalization (p, \(BatchNormTestSupport.parameters("bn")))
        r = Relu (y)
      }
      """
    let (_, _, log) = try BatchNormTestSupport.assertRefuses(
      text, rule: rule, reason: "skip 9: the rank of output 'p' of MatMul 'mm' is unknown (no declared shape)")
    XCTAssertEqual(
      log.refusals.filter { $0.rule == "decompose-batchnorm" }.map(\.reason),
      ["skip 7: the rank of input 'p' of BatchNormalization 'bn' is unknown (no declared shape)"])
  }
}
