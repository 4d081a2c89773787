import Foundation
import XCTest

@testable import ONNXQAT

/// Runs one node through the interpreter: a graph whose inputs are the given tensors (nil leaves
/// an optional input out), one node `op` with outputs `out0`, `out1`, ..., and the opset `opset`
/// (plus version 1 of `domain` when it is not the default one). Returns the outputs in order.
enum SingleNodeRun {
  static func run(
    _ op: String, domain: String = "", opset: Int64, inputs: [HostTensor?], attributes: [Attribute] = [],
    outputs: Int = 1, options: ExecutionOptions = ExecutionOptions()
  ) throws -> [HostTensor] {
    let graph = Graph(name: "g")
    var values: [ONNXQAT.Value?] = []
    var feeds: [String: HostTensor] = [:]
    for (index, tensor) in inputs.enumerated() {
      guard let tensor else {
        values.append(nil)
        continue
      }
      let value = ONNXQAT.Value(name: "in\(index)")
      graph.inputs.append(value)
      values.append(value)
      feeds[value.name] = tensor
    }
    let node = Node(
      opType: op, domain: domain, inputs: values, outputNames: (0..<outputs).map { "out\($0)" },
      attributes: attributes)
    try graph.append(node)
    graph.outputs = node.outputs.compactMap { $0 }
    var opsets = [OpsetImport(domain: "", version: opset)]
    if !domain.isEmpty { opsets.append(OpsetImport(domain: domain, version: 1)) }
    let results = try Interpreter(model: Model(graph: graph, opsetImports: opsets), options: options).run(feeds)
    return try (0..<outputs).map { try XCTUnwrap(results["out\($0)"], "\(op) gave no output out\($0)") }
  }
}
