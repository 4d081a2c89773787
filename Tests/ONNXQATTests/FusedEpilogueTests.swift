import Foundation
import XCTest

@testable import ONNXQAT

/// Conv epilogue fusion in the graph plan (ConvEpilogueChain, FusedConvStep, FusedEpilogue) and
/// the packed-weight cache of Conv steps (PackedConvWeights). The fused run must equal the
/// unfused run bit for bit (Float bit patterns, NaN included), at 1 and 2 threads: the fusion
/// performs the same float32 operations in the same order, so no tolerance is allowed. The
/// unfused reference is a plan made with `GraphPlan.fusesEpilogues` and `cachesPackedWeights`
/// off. Shapes are chosen so that the Conv takes its banded im2col path (several bands, split
/// across 2 threads), its pointwise path, and its depthwise path.
final class FusedEpilogueTests: XCTestCase {
  override func tearDown() {
    GraphPlan.fusesEpilogues = true
    GraphPlan.cachesPackedWeights = true
    super.tearDown()
  }

  /// A 16 -> 32 channel 3x3 Conv on 48x48 (several im2col bands; 2 workers at 2 threads), the
  /// nodes `tail` after it (reading `c`), at `opset`, with extra initializers `constants`.
  private func convModel(
    opset: Int = 17, tail: String, outputs: String = "float[1,32,48,48] y", constants: [String] = [],
    channels: Int = 16, kernel: Int = 3, group: Int = 1, seed: UInt64 = 1
  ) -> String {
    var numbers = BatchNormTestSupport.Numbers(seed: seed)
    let pad = kernel / 2
    let all =
      [
        numbers.initializer("w", [32, channels / group, kernel, kernel]), numbers.initializer("cb", [32]),
        numbers.batchNorm("bn", channels: 32),
      ] + constants
    return """
      <ir_version: 8, opset_import: ["" : \(opset)]>
      g (float[1,\(channels),48,48] x) => (\(outputs)) <\(all.joined(separator: ", "))> {
        c = Conv <pads = [\(pad), \(pad), \(pad), \(pad)], group = \(group)> (x, w, cb)
      \(tail)
      }
      """
  }

  private let batchNorm = "  n = BatchNormalization <epsilon = 0.001> (c, bn_scale, bn_b, bn_mean, bn_var)"

  /// Runs `model` at `threads` threads with fusion and caching `on` or off (twice, so that the
  /// second run uses the cached packed weights), returning every output's bit patterns.
  private func run(
    _ model: Model, inputs: [String: HostTensor], threads: Int, fused on: Bool,
    observer: ((Value, HostTensor) -> Void)? = nil
  ) throws -> [String: [UInt32]] {
    try FusedPlanTestSupport.run(model, inputs: inputs, threads: threads, fused: on, observer: observer)
  }

  /// The op types of the plan's steps' nodes (a fused step shows its chain's last node).
  private func plannedOps(_ model: Model) -> [String] {
    let plan = GraphPlan(
      graph: model.graph, opsets: model.opsetImports, constants: [:], cache: nil, registry: .standard,
      function: { _ in nil })
    return plan.steps.map(\.node.opType)
  }

  /// Asserts that `text` plans as `ops` and that its fused outputs equal the unfused ones bit for
  /// bit at 1 and 2 threads; `nan` puts a NaN into the input.
  private func assertFusedEqualsUnfused(
    _ text: String, ops: [String], nan: Bool = false, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let inputs = RewriteTestSupport.randomInputs(try RewriteTestSupport.model(text))
    if nan, let x = inputs["x"] { x.pointer(Float.self)[100] = .nan }
    try FusedPlanTestSupport.assertFusedEqualsUnfused(text, ops: ops, inputs: inputs, file: file, line: line)
  }

  func testConvBatchNormRelu() throws {
    try assertFusedEqualsUnfused(
      convModel(tail: batchNorm + "\n  y = Relu (n)"), ops: ["Relu"])
  }

  func testConvBatchNormClipWithBoundInputs() throws {
    try assertFusedEqualsUnfused(
      convModel(
        tail: batchNorm + "\n  y = Clip (n, lo, hi)",
        constants: ["float lo = {-0.5}", "float hi = {0.75}"]), ops: ["Clip"], nan: true)
  }

  /// Opset 10: Clip's bounds are attributes.
  func testConvBatchNormClipWithBoundAttributes() throws {
    try assertFusedEqualsUnfused(
      convModel(opset: 10, tail: batchNorm + "\n  y = Clip <min = -0.25, max = 0.5> (n)"), ops: ["Clip"])
  }

  /// A pointwise (1x1) Conv: one product per group, then the epilogue.
  func testPointwiseConvRelu() throws {
    try assertFusedEqualsUnfused(convModel(tail: "  y = Relu (c)", kernel: 1), ops: ["Relu"])
  }

  func testConvBatchNormLeakyRelu() throws {
    try assertFusedEqualsUnfused(
      convModel(tail: batchNorm + "\n  y = LeakyRelu <alpha = 0.125> (n)", seed: 3), ops: ["LeakyRelu"])
  }

  /// Conv + BatchNormalization then Add (a residual block): the BatchNormalization is fused.
  func testConvBatchNormBeforeAdd() throws {
    try assertFusedEqualsUnfused(
      convModel(tail: batchNorm + "\n  y = Add (n, n)"), ops: ["BatchNormalization", "Add"])
  }

  func testDepthwiseConvBatchNormClip0To6() throws {
    try assertFusedEqualsUnfused(
      convModel(
        tail: batchNorm + "\n  y = Clip (n, lo, hi)", constants: ["float lo = {0}", "float hi = {6}"],
        channels: 32, group: 32), ops: ["Clip"], nan: true)
  }

  /// The Conv output is also read by an Add: nothing is fused.
  func testIntermediateUsedElsewhereDoesNotFuse() throws {
    try assertFusedEqualsUnfused(
      convModel(tail: batchNorm + "\n  r = Relu (n)\n  y = Add (r, c)"),
      ops: ["Conv", "BatchNormalization", "Relu", "Add"])
  }

  /// The BatchNormalization output is also read by a Mul: Conv + BatchNormalization fuse, the
  /// Relu does not join.
  func testNormalizedOutputUsedElsewhereStopsTheChain() throws {
    try assertFusedEqualsUnfused(
      convModel(tail: batchNorm + "\n  r = Relu (n)\n  y = Mul (r, n)"), ops: ["BatchNormalization", "Relu", "Mul"])
  }

  /// The Conv output is a graph output: nothing is fused.
  func testConvOutputThatIsAGraphOutputDoesNotFuse() throws {
    try assertFusedEqualsUnfused(
      convModel(
        tail: batchNorm + "\n  y = Relu (n)", outputs: "float[1,32,48,48] y, float[1,32,48,48] c"),
      ops: ["Conv", "BatchNormalization", "Relu"])
  }

  /// Training-mode BatchNormalization (opset 14, three outputs) is not fused.
  func testTrainingModeBatchNormDoesNotFuse() throws {
    let text = convModel(
      opset: 15,
      tail: "  n, rm, rv = BatchNormalization <training_mode = 1> (c, bn_scale, bn_b, bn_mean, bn_var)\n  y = Relu (n)"
    )
    let model = try RewriteTestSupport.model(text)
    XCTAssertEqual(plannedOps(model), ["Conv", "BatchNormalization", "Relu"])
  }

  /// With an observer the fused step runs the kernels one by one and shows every intermediate,
  /// with the bits of the unfused run.
  func testObserverSeesEveryIntermediate() throws {
    let model = try RewriteTestSupport.model(convModel(tail: batchNorm + "\n  y = Relu (n)"))
    let inputs = RewriteTestSupport.randomInputs(model)
    var seen: [String: [UInt32]] = [:]
    var unfusedSeen: [String: [UInt32]] = [:]
    _ = try run(model, inputs: inputs, threads: 2, fused: true) {
      seen[$0.name] = $1.values(Float.self).map(\.bitPattern)
    }
    _ = try run(model, inputs: inputs, threads: 2, fused: false) {
      unfusedSeen[$0.name] = $1.values(Float.self).map(\.bitPattern)
    }
    XCTAssertEqual(seen.keys.sorted(), ["c", "n", "x", "y"])
    XCTAssertTrue(seen == unfusedSeen, "observed tensors differ from the unfused run's")
  }

  /// An initializer that is also a graph input may be overridden: a run given other weights
  /// uses them (no packing of the initializer's values is reused), and a later run without them
  /// is back to the initializer's results.
  func testWeightsOverriddenByAGraphInputAreUsed() throws {
    var numbers = BatchNormTestSupport.Numbers(seed: 5)
    let text = """
      <ir_version: 8, opset_import: ["" : 17]>
      g (float[1,16,32,32] x, float[32,16,3,3] w) => (float[1,32,32,32] y) <\(numbers.initializer("w", [32, 16, 3, 3]))> {
        y = Conv <pads = [1, 1, 1, 1]> (x, w)
      }
      """
    let model = try RewriteTestSupport.model(text)
    let inputs = RewriteTestSupport.randomInputs(model).filter { $0.key == "x" }
    var other = BatchNormTestSupport.Numbers(seed: 9)
    let weights = HostTensor(
      .float, shape: [32, 16, 3, 3], values: (0..<(32 * 16 * 9)).map { _ in Float(other.next(-1, 1)) })
    let interpreter = try Interpreter(model: model)
    let reference = try Interpreter(model: model)
    GraphPlan.cachesPackedWeights = false
    let unfused = try reference.run(inputs.merging(["w": weights]) { $1 })["y"]
    GraphPlan.cachesPackedWeights = true
    let initial = try interpreter.run(inputs)["y"]
    let overridden = try interpreter.run(inputs.merging(["w": weights]) { $1 })["y"]
    let again = try interpreter.run(inputs)["y"]
    XCTAssertEqual(overridden?.values(Float.self).map(\.bitPattern), unfused?.values(Float.self).map(\.bitPattern))
    XCTAssertEqual(again?.values(Float.self).map(\.bitPattern), initial?.values(Float.self).map(\.bitPattern))
    XCTAssertNotEqual(initial?.values(Float.self), overridden?.values(Float.self))
  }

  /// A registry with its own Relu kernel gets no fused step: its Relu runs (every output 7), and
  /// a registry that keeps onnx-qat's own kernels still fuses.
  func testRegistryWithItsOwnActivationKernelIsNotFused() throws {
    let model = try RewriteTestSupport.model(convModel(tail: batchNorm + "\n  y = Relu (n)"))
    let inputs = RewriteTestSupport.randomInputs(model)
    var registry = KernelRegistry()
    for op in ["Conv", "BatchNormalization"] {
      let kernel = try XCTUnwrap(KernelRegistry.standard.kernel(op, domain: "", version: 17))
      registry.register(op, kernel)
    }
    registry.register("Relu") { context in
      [HostTensor(.float, shape: context.inputs[0]?.shape ?? [], values: [Float](repeating: 7, count: 32 * 48 * 48))]
    }
    XCTAssertFalse(registry.fusedOpsAreBuiltIn)
    XCTAssertTrue(KernelRegistry.standard.fusedOpsAreBuiltIn)
    let plan = GraphPlan(
      graph: model.graph, opsets: model.opsetImports, constants: [:], cache: nil, registry: registry,
      function: { _ in nil })
    XCTAssertEqual(plan.steps.map(\.node.opType), ["Conv", "BatchNormalization", "Relu"])
    let output = try XCTUnwrap(Interpreter(model: model, registry: registry).run(inputs)["y"])
    XCTAssertEqual(output.count, 32 * 48 * 48)
    XCTAssertEqual(output.values(Float.self).filter { $0 != 7 }.count, 0, "elements not made by the registry's Relu")
  }
}
