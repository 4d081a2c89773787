import Foundation
import XCTest

@testable import ONNXQAT

/// `StaticElementTypes` gives exactly the element types a run shows (the probe insert no longer
/// makes when they are certain), and nil in each skip case.
final class StaticElementTypesTests: XCTestCase {
  /// The types an observed run of the first sample shows: what `QDQInsertion.probeTypes` did
  /// before it looked at the graph first.
  private func observedTypes(_ model: Model) throws -> [String: DataType] {
    let interpreter = try Interpreter(model: model)
    var types: [String: DataType] = [:]
    interpreter.observer = { value, tensor in types[value.name] = tensor.dataType }
    _ = try interpreter.run(RewriteTestSupport.randomInputs(model))
    return types
  }

  func testTypesOfAChainEqualTheObservedOnes() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 5)
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1,2,3,3] x) => (float[1,2,3,3] y) <\(numbers.initializer("w", [2, 2, 1, 1])), \
      \(numbers.initializer("b", [2])), \(numbers.batchNorm("bn", channels: 2)), float half = {0.5}> {
        c = Conv(x, w, b)
        n = BatchNormalization(c, \(BatchNormTestSupport.parameters("bn")))
        r = Relu(n)
        s = Add(x, r)
        y = Mul(s, half)
      }
      """)
    let inferred = try XCTUnwrap(StaticElementTypes.infer(model))
    XCTAssertEqual(inferred, try observedTypes(model))
    XCTAssertEqual(inferred.count, 6)  // x and the five node outputs
  }

  func testSkipCasesGiveNil() throws {
    let cases: [(String, String)] = [
      // Skip case 2: an op outside the table (its output is int64).
      (
        "Shape",
        """
        <ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (int64[1] y) { y = Shape(x) }
        """
      ),
      // Skip case 3: an input of another type.
      (
        "int input",
        """
        <ir_version: 8, opset_import: ["" : 13]>
        g (int64[2] x) => (int64[2] y) { y = Add(x, x) }
        """
      ),
      // Skip case 3: an omitted optional input.
      (
        "omitted input",
        """
        <ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y) <float hi = {1.0}> { y = Clip(x, , hi) }
        """
      ),
      // Skip case 4: a graph output that no node computes.
      (
        "initializer output",
        """
        <ir_version: 8, opset_import: ["" : 13]>
        g (float[2] x) => (float[2] y, float[2] w) <float[2] w = {1.0, 2.0}> { y = Add(x, w) }
        """
      ),
    ]
    for (label, text) in cases {
      let model = try RewriteTestSupport.model(text)
      XCTAssertNil(StaticElementTypes.infer(model), label)
    }
  }

  func testAGraphInputWithoutElementTypeGivesNil() throws {
    // Skip case 1.
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x) => (float[2] y) { y = Relu(x) }
      """)
    XCTAssertNotNil(StaticElementTypes.infer(model))
    model.graph.inputs[0].type = nil
    XCTAssertNil(StaticElementTypes.infer(model))
  }
}
