import Foundation
import XCTest

@testable import ONNXQAT

/// When a planned run lets go of values: each slot that is not a graph output is released once,
/// at the step of its last use, the slots of one step in slot order; the slots a run reads first
/// (`operandSlots`) agree with the operands; and the one input array the interpreter reuses from
/// step to step never changes an array a kernel kept. Every expected
/// value is exact in float32 (small integers), so outputs are compared exactly.
final class GraphPlanReleaseTests: XCTestCase {
  private func input(_ values: [Float]) -> HostTensor { HostTensor(.float, shape: [values.count], values: values) }

  private let text = """
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[2] x) => (float[2] y, float[2] a) {
      a = Add (x, x)
      b = Mul (a, x)
      c = Sub (b, a)
      y = Add (c, b)
    }
    """

  /// Slots: x 0, a 1, b 2, c 3, y 4. x goes after Mul, b and c after the last Add; a and y are
  /// graph outputs (a is read by Sub too) and stay.
  func testSlotsAreReleasedAtTheirLastUseInSlotOrder() throws {
    let model = try RewriteTestSupport.model(text)
    let plan = GraphPlan(
      graph: model.graph, opsets: model.opsetImports, constants: [:], cache: nil, registry: .standard,
      function: { _ in nil })
    XCTAssertEqual(plan.steps.map(\.node.opType), ["Add", "Mul", "Sub", "Add"])
    let released = plan.steps.map { step in step.released.map { plan.frees[$0] } }
    XCTAssertEqual(released, [[], [0], [], [2, 3]])
    // The slots a run reads first agree with the operands: Add (x, x), Mul (a, x), Sub (b, a), Add (c, b).
    XCTAssertEqual(plan.operandSlots, [0, 0, 1, 0, 2, 1, 3, 2])
    let operandSlots = plan.operands.map { operand -> Int in
      if case .slot(let slot, _, _) = operand { return slot }
      return -1
    }
    XCTAssertEqual(operandSlots, plan.operandSlots)
    let outputs = try Interpreter(model: model).run(["x": input([1, 3])])
    // a = 2x, b = 2x^2, c = 2x^2 - 2x, y = 4x^2 - 2x
    XCTAssertEqual(outputs["a"]?.values(Float.self), [2, 6])
    XCTAssertEqual(outputs["y"]?.values(Float.self), [2, 30])
  }

  /// A kernel that keeps its context's input array sees the same tensors after later steps ran:
  /// the interpreter's reused array is copied rather than changed under it.
  func testKernelsThatKeepTheirInputArraySeeItUnchanged() throws {
    let model = try RewriteTestSupport.model(text)
    final class Kept { var inputs: [[HostTensor?]] = [] }
    let kept = Kept()
    var registry = KernelRegistry()
    for op in ["Add", "Mul", "Sub"] {
      let kernel = try XCTUnwrap(KernelRegistry.standard.kernel(op, domain: "", version: 13))
      registry.register(op) { context in
        kept.inputs.append(context.inputs)
        return try kernel(context)
      }
    }
    let interpreter = try Interpreter(model: model, registry: registry)
    for _ in 0..<2 {
      kept.inputs = []
      let outputs = try interpreter.run(["x": input([1, 3])])
      XCTAssertEqual(outputs["y"]?.values(Float.self), [2, 30])
      let seen = kept.inputs.map { $0.map { $0?.values(Float.self) ?? [] } }
      // Add (x, x), Mul (a, x), Sub (b, a), Add (c, b)
      XCTAssertEqual(seen, [[[1, 3], [1, 3]], [[2, 6], [1, 3]], [[2, 18], [2, 6]], [[0, 12], [2, 18]]])
    }
  }
}
