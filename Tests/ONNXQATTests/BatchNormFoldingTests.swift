import Foundation
import XCTest

@testable import ONNXQAT

/// `BatchNormRules.all` on a small CNN that has every foldable kind of BatchNormalization:
/// after a Conv, a depthwise Conv (group = channels), a grouped ConvTranspose, and Gemms with
/// transB 0 and 1.
final class BatchNormFoldingTests: XCTestCase {
  func testSmallCNNFoldsEveryBatchNorm() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 61)
    let constants = [
      numbers.initializer("w1", [4, 3, 3, 3]), numbers.batchNorm("bn1", channels: 4),
      numbers.initializer("w2", [4, 1, 3, 3]), numbers.initializer("cb2", [4]), numbers.batchNorm("bn2", channels: 4),
      numbers.initializer("w3", [4, 3, 2, 2]), numbers.batchNorm("bn3", channels: 6),
      numbers.initializer("wg1", [6, 8]), numbers.initializer("cg1", [8]), numbers.batchNorm("bn4", channels: 8),
      numbers.initializer("wg2", [5, 8]), numbers.initializer("cg2", [1, 5]), numbers.batchNorm("bn5", channels: 5),
    ]
    let p = BatchNormTestSupport.parameters
    let text = """
      <ir_version: 8, opset_import: ["" : 15]>
      cnn (float[2,3,8,8] x) => (float[2,5] y) <\(constants.joined(separator: ", "))> {
        [conv1] c1 = Conv <pads = [1, 1, 1, 1]> (x, w1)
        [bn1] b1 = BatchNormalization (c1, \(p("bn1")))
        r1 = Relu (b1)
        [dw] c2 = Conv <group = 4, pads = [1, 1, 1, 1]> (r1, w2, cb2)
        [bn2] b2 = BatchNormalization <epsilon = 0.001> (c2, \(p("bn2")))
        r2 = Relu (b2)
        [up] t = ConvTranspose <group = 2, strides = [2, 2]> (r2, w3)
        [bn3] b3 = BatchNormalization (t, \(p("bn3")))
        r3 = Relu (b3)
        pool = GlobalAveragePool (r3)
        f = Flatten (pool)
        [fc1] g1 = Gemm (f, wg1, cg1)
        [bn4] b4 = BatchNormalization (g1, \(p("bn4")))
        r4 = Relu (b4)
        [fc2] g2 = Gemm <transB = 1, alpha = 0.5, beta = 2.0> (r4, wg2, cg2)
        [bn5] y = BatchNormalization (g2, \(p("bn5")))
      }
      """
    let before = try RewriteTestSupport.model(text)
    let (model, log) = try BatchNormTestSupport.assertRewrites(
      text,
      fired: [
        "fold-batchnorm-into-conv": 2, "fold-batchnorm-into-conv-transpose": 1, "fold-batchnorm-into-gemm": 2,
        "decompose-batchnorm": 0,
      ],
      ops: [
        "Conv", "Relu", "Conv", "Relu", "ConvTranspose", "Relu", "GlobalAveragePool", "Flatten", "Gemm", "Relu",
        "Gemm",
      ])
    XCTAssertEqual(log.refusals, [])
    XCTAssertEqual(model.graph.initializers.count, 10)
    let worst = try BatchNormTestSupport.assertSameOutputsInOrt(before, model)
    let inputs = RewriteTestSupport.randomInputs(before)
    let want = try XCTUnwrap(try Interpreter(model: before).run(inputs)["y"])
    let got = try XCTUnwrap(try Interpreter(model: model).run(inputs)["y"])
    let ours = (0..<want.count).map { abs(got.element(at: $0) - want.element(at: $0)) }.max() ?? 0
    print("small CNN: largest difference after folding: executor \(ours), onnxruntime \(worst)")
  }
}

extension BatchNormFoldingTests {
  /// A Conv and BatchNormalization inside an If branch, the weight an initializer of the main
  /// graph: the fold writes its folded weight into the branch; the outer weight stays for the
  /// other branch.
  func testFoldsInsideSubgraph() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 71)
    let text = """
      <ir_version: 8, opset_import: ["" : 15]>
      g (bool cond, float[2,3,5,5] x) => (float[2,4,5,5] y) <\(numbers.initializer("w", [4, 3, 3, 3])), \
      \(numbers.batchNorm("bn", channels: 4))> {
        y = If (cond) <
          then_branch = then_graph () => (float[2,4,5,5] t) {
            [conv] c = Conv <pads = [1, 1, 1, 1]> (x, w)
            [bn] t = BatchNormalization (c, \(BatchNormTestSupport.parameters("bn")))
          },
          else_branch = else_graph () => (float[2,4,5,5] e) {
            e = Conv <pads = [1, 1, 1, 1]> (x, w)
          }
        >
      }
      """
    let (model, _) = try BatchNormTestSupport.assertRewrites(
      text, fired: ["fold-batchnorm-into-conv": 1], ops: ["If"])
    let branches = model.graph.allSubgraphs
    XCTAssertEqual(branches.map { $0.nodes.map(\.opType) }, [["Conv"], ["Conv"]])
    XCTAssertEqual(branches.map { $0.nodes.first?.input(1)?.name }, ["w_folded", "w"])
    XCTAssertEqual(branches.first?.outputs.map(\.name), ["t"])
    for value in [true, false] {
      var inputs = RewriteTestSupport.randomInputs(model)
      inputs["cond"] = HostTensor(.bool, shape: [], values: [UInt8(value ? 1 : 0)])
      try RewriteTestSupport.assertSameOutputs(try RewriteTestSupport.model(text), model, inputs: inputs)
    }
  }
}

extension BatchNormFoldingTests {
  /// The tiny_cnn fixture (built by Fixtures/generate.py): every BatchNormalization folds, and
  /// the result computes the same in our executor and in onnxruntime.
  func testTinyCNNFixtureFolds() throws {
    let path = TestSupport.fixtures + "/tiny_cnn.onnx"
    let before = try ModelLoader.load(path: path)
    let model = try ModelLoader.load(path: path)
    let batchNorms = model.graph.nodes.filter { $0.opType == "BatchNormalization" }.count
    XCTAssertGreaterThan(batchNorms, 0)
    let log = try BatchNormTestSupport.run(model)
    XCTAssertEqual(log.firings.map(\.count).reduce(0, +), batchNorms, log.summary(explain: true))
    XCTAssertFalse(model.graph.nodes.contains { $0.opType == "BatchNormalization" })
    XCTAssertEqual(model.graph.nodes.count, before.graph.nodes.count - batchNorms)
    try RewriteTestSupport.assertSameOutputs(before, model)
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
    try BatchNormTestSupport.assertSameOutputsInOrt(before, model)
  }
}
