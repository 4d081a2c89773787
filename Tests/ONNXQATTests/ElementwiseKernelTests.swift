import Foundation
import XCTest

@testable import ONNXQAT

/// Elementwise kernels in the forms ONNX's backend cases do not cover: opset 6-12 attribute
/// forms, integer types, float8 rounding edges, error messages.
final class ElementwiseKernelTests: XCTestCase {
  /// Runs one node with `inputs` (nil: omitted optional input) at `opset`; returns its outputs.
  func run(
    _ op: String, opset: Int, _ inputs: [HostTensor?], attributes: [Attribute] = [], outputs: Int = 1
  ) throws -> [HostTensor] {
    let graph = Graph(name: "test")
    var feeds: [String: HostTensor] = [:]
    var values: [Value?] = []
    for (index, tensor) in inputs.enumerated() {
      guard let tensor else {
        values.append(nil)
        continue
      }
      let value = Value(name: "x\(index)")
      feeds[value.name] = tensor
      graph.inputs.append(value)
      values.append(value)
    }
    let node = Node(
      opType: op, inputs: values, outputNames: (0..<outputs).map { "y\($0)" }, attributes: attributes)
    try graph.append(node)
    graph.outputs = node.outputs.compactMap { $0 }
    let model = Model(graph: graph, opsetImports: [OpsetImport(domain: "", version: Int64(opset))])
    let result = try Interpreter(model: model).run(feeds)
    return try (0..<outputs).map { index in
      guard let tensor = result["y\(index)"] else { throw ConformanceFailure("output \(index) missing") }
      return tensor
    }
  }

  func floats(_ values: [Float], _ shape: [Int]? = nil) -> HostTensor {
    HostTensor(.float, shape: shape ?? [values.count], values: values)
  }

  func testClipInt8Inputs() throws {
    let x = HostTensor(.int8, shape: [4], values: [Int8(-100), -1, 1, 100])
    let high = HostTensor(.int8, shape: [], values: [Int8(0)])
    let y = try run("Clip", opset: 13, [x, nil, high])[0]
    XCTAssertEqual(y.values(Int8.self), [-100, -1, 0, 0])
    let low = HostTensor(.int8, shape: [], values: [Int8(-5)])
    XCTAssertEqual(try run("Clip", opset: 13, [x, low])[0].values(Int8.self), [-5, -1, 1, 100])
  }
}
