import Foundation
import XCTest

@testable import ONNXQAT

/// `Value.hasInitializer` follows `Value.initializer` through every edit that sets or clears it:
/// the graph's initializer edits and the loader.
final class ValueHasInitializerTests: XCTestCase {
  func testHasInitializerFollowsTheGraphEdits() throws {
    let graph = Graph(name: "g")
    let value = try graph.addInitializer(named: "w", Tensor(name: nil, dataType: .float, dims: [1]))
    XCTAssertTrue(value.hasInitializer)
    XCTAssertEqual(value.hasInitializer, value.initializer != nil)
    try graph.setInitializer(value, Tensor(name: nil, dataType: .float, dims: [2]))
    XCTAssertTrue(value.hasInitializer)
    XCTAssertEqual(value.initializer?.dims, [2])
    try graph.removeInitializer(value)
    XCTAssertFalse(value.hasInitializer)
    XCTAssertNil(value.initializer)
    XCTAssertFalse(value.isConstant)
    XCTAssertFalse(Value(name: "fresh").hasInitializer)
  }

  func testLoadedValuesAgreeWithTheirInitializers() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x) => (float[2] y) <float[2] w = {1.0, 2.0}> {
        y = Add(x, w)
      }
      """)
    let outputs = model.graph.nodes.flatMap { $0.outputs.compactMap { $0 } }
    let values = model.graph.inputs + model.graph.initializers + outputs
    XCTAssertEqual(values.map(\.name), ["x", "w", "y"])
    XCTAssertEqual(values.map(\.hasInitializer), [false, true, false])
    for value in values { XCTAssertEqual(value.hasInitializer, value.initializer != nil, value.name) }
  }
}
