import Foundation
import XCTest

@testable import ONNXQAT

/// Runs a model with the graph plan's fused steps on and off (`GraphPlan.fusesEpilogues`,
/// `cachesPackedWeights`) and compares the outputs' bit patterns: the fused steps must give the
/// unfused bits exactly.
enum FusedPlanTestSupport {
  /// Runs `model` twice at `threads` threads with fusion `on` or off, returning every output's
  /// Float bit patterns (integer outputs widened), after checking the second run equals the first.
  static func run(
    _ model: Model, inputs: [String: HostTensor], threads: Int, fused on: Bool,
    observer: ((Value, HostTensor) -> Void)? = nil
  ) throws -> [String: [UInt32]] {
    GraphPlan.fusesEpilogues = on
    GraphPlan.cachesPackedWeights = on
    defer {
      GraphPlan.fusesEpilogues = true
      GraphPlan.cachesPackedWeights = true
    }
    var options = ExecutionOptions()
    options.threads = threads
    let interpreter = try Interpreter(model: model, options: options)
    interpreter.observer = observer
    func bits(_ outputs: [String: HostTensor]) -> [String: [UInt32]] {
      outputs.mapValues { tensor in
        tensor.dataType == .float
          ? tensor.values(Float.self).map(\.bitPattern) : tensor.doubles().map { UInt32(bitPattern: Int32($0)) }
      }
    }
    let first = bits(try interpreter.run(inputs))
    XCTAssertEqual(bits(try interpreter.run(inputs)), first, "second run")
    return first
  }

  /// The op types of the plan's steps' nodes (a fused step shows its last node), with the
  /// constant cache of `model`'s graph.
  static func plannedOps(_ model: Model) throws -> [String] {
    var constants: [ObjectIdentifier: HostTensor] = [:]
    for value in model.graph.initializers {
      if let tensor = value.initializer { constants[ObjectIdentifier(value)] = try HostTensor(tensor) }
    }
    let plan = GraphPlan(
      graph: model.graph, opsets: model.opsetImports, constants: constants,
      cache: ConstantCache(graph: model.graph, limit: 1 << 20), registry: .standard, function: { _ in nil })
    return plan.steps.map(\.node.opType)
  }

  /// Asserts that `text` plans as `ops` and that its fused outputs equal the unfused ones bit for
  /// bit at 1 and 2 threads on `inputs` (random ones when nil).
  static func assertFusedEqualsUnfused(
    _ text: String, ops: [String], inputs given: [String: HostTensor]? = nil, file: StaticString = #filePath,
    line: UInt = #line
  ) throws {
    let model = try RewriteTestSupport.model(text)
    XCTAssertEqual(try plannedOps(model), ops, "planned steps", file: file, line: line)
    let inputs = given ?? RewriteTestSupport.randomInputs(model)
    for threads in [1, 2] {
      let fused = try run(model, inputs: inputs, threads: threads, fused: true)
      let unfused = try run(model, inputs: inputs, threads: threads, fused: false)
      XCTAssertFalse(fused.isEmpty, file: file, line: line)
      XCTAssertEqual(Set(fused.keys), Set(unfused.keys), file: file, line: line)
      for (name, bits) in unfused {
        let differing = zip(bits, fused[name] ?? []).filter { $0 != $1 }.count
        XCTAssertEqual(fused[name]?.count, bits.count, "\(name) at \(threads) threads", file: file, line: line)
        XCTAssertEqual(differing, 0, "\(name): elements differing at \(threads) threads", file: file, line: line)
      }
    }
  }
}
