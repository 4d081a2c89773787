import Foundation
import XCTest

@testable import ONNXQAT

/// FoldConstants: constant subgraphs become initializers computed by the executor; each case
/// checks the graph after the pass, numeric equivalence through the executor, and validity in
/// onnx.checker and onnxruntime. Negative cases check that the model is byte-for-byte unchanged.
final class FoldConstantsTests: XCTestCase {
  /// Runs FoldConstants on a copy of `model`; returns the folded model and the log.
  private func fold(_ model: Model, pass: FoldConstants = FoldConstants()) throws -> (Model, RewriteLog) {
    let folded = try RewriteTestSupport.copy(model)
    let log = RewriteLog()
    _ = try pass.run(folded, log: log)
    return (folded, log)
  }

  private func assertUnchanged(_ before: Model, _ after: Model, file: StaticString = #filePath, line: UInt = #line)
    throws
  {
    XCTAssertEqual(
      try ModelSaver.serialize(before), try ModelSaver.serialize(after), "the model changed", file: file, line: line)
  }

  func testWeightChainIntoConvBecomesOneInitializer() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1,2,3,3] x) => (float[1,2,2,3] y) {
        w = Constant <value = float[4] {1, 2, 3, 4}> ()
        s = Constant <value = int64[4] {2, 1, 1, 2}> ()
        r = Reshape (w, s)
        t = Transpose <perm = [0, 1, 3, 2]> (r)
        y = Conv <group = 2> (x, t)
      }
      """)
    let folded = try RewriteTestSupport.copy(model)
    let log = RewriteLog()
    let report = try Folding.fold(folded, log: log)
    XCTAssertEqual(folded.graph.nodes.map(\.opType), ["Conv"])
    XCTAssertEqual(folded.graph.initializers.map(\.name), ["t"])
    let weight = try XCTUnwrap(folded.graph.nodes.first?.input(1))
    XCTAssertEqual(weight.name, "t")
    let values = try XCTUnwrap(weight.constantFloats(in: folded))
    XCTAssertEqual(values.shape, [2, 1, 2, 1])
    // Transposing the last two axes of [2, 1, 1, 2] keeps the element order.
    let source = try XCTUnwrap(model.graph.nodes.first?.attribute("value"))
    guard case .tensor(let tensor) = source.value else { return XCTFail("w is not a tensor attribute") }
    XCTAssertEqual(values.values, try HostTensor(tensor).values(Float.self))
    XCTAssertEqual(log.count("fold-constants"), 4)
    XCTAssertEqual(report.before.nodes, 5)
    XCTAssertEqual(report.after.nodes, 1)
    XCTAssertEqual(report.after.initializers, 1)
    XCTAssertTrue(report.passes.contains { $0.name == "fold-constants" && $0.modified })
    XCTAssertTrue(log.notes.contains { $0.message == "folded 4 nodes into 4 initializers" }, "\(log.notes)")
    try RewriteTestSupport.assertSameOutputs(model, folded)
    try RewriteTestSupport.assertValidInOnnxAndOrt(folded)
  }

  func testConstantOfShape() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,3] x) => (float[2,3] y) <int64[2] s = {2, 3}> {
        c = ConstantOfShape <value = float[1] {1.5}> (s)
        y = Add (x, c)
      }
      """)
    let (folded, log) = try fold(model)
    XCTAssertEqual(folded.graph.nodes.map(\.opType), ["Add"])
    let constant = try XCTUnwrap(folded.graph.value(named: "c")?.constantFloats(in: folded))
    XCTAssertEqual(constant.shape, [2, 3])
    XCTAssertEqual(Set(constant.values), [1.5])
    XCTAssertEqual(log.count("fold-constants"), 1)
    try RewriteTestSupport.assertSameOutputs(model, folded)
    try RewriteTestSupport.assertValidInOnnxAndOrt(folded)
  }

  func testShapeAndSizeOfStaticValueWithCast() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 15]>
      g (float[2,3] x, float[1,3] z) => (float[3] y) {
        sh = Shape <start = 1> (x)
        r = Reshape (z, sh)
        n = Size (x)
        nf = Cast <to = 1> (n)
        y = Add (r, nf)
      }
      """)
    let (folded, log) = try fold(model)
    XCTAssertEqual(folded.graph.nodes.map(\.opType), ["Reshape", "Add"])
    let dims = try XCTUnwrap(model.graph.inputs.first?.type?.tensorType?.shape?.dims).map { dimension -> Int64 in
      if case .known(let size) = dimension.size { return size }
      return -1
    }
    let shape = try XCTUnwrap(folded.graph.value(named: "sh")?.constantHostTensor(in: folded))
    XCTAssertEqual(shape.values(Int64.self), Array(dims.dropFirst()))
    let size = try XCTUnwrap(folded.graph.value(named: "n")?.constantHostTensor(in: folded))
    XCTAssertEqual(size.shape, [])
    XCTAssertEqual(size.values(Int64.self), [dims.reduce(1, *)])
    let cast = try XCTUnwrap(folded.graph.value(named: "nf")?.constantFloats(in: folded))
    XCTAssertEqual(cast.values, [Float(dims.reduce(1, *))])
    XCTAssertEqual(log.count("fold-constants"), 3)
    try RewriteTestSupport.assertSameOutputs(model, folded)
    try RewriteTestSupport.assertValidInOnnxAndOrt(folded)
  }

  func testConcatAndUnsqueezeWithAxesInputAtOpset13() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,3] x) => (float[2,3,1] y) {
        a = Constant <value = int64[1] {2}> ()
        b = Constant <value = int64[2] {3, 1}> ()
        shape = Concat <axis = 0> (a, b)
        xr = Reshape (x, shape)
        v = Constant <value = float[3] {1, 2, 3}> ()
        axes = Constant <value = int64[1] {1}> ()
        vu = Unsqueeze (v, axes)
        y = Add (xr, vu)
      }
      """)
    let (folded, log) = try fold(model)
    XCTAssertEqual(folded.graph.nodes.map(\.opType), ["Reshape", "Add"])
    let shape = try XCTUnwrap(folded.graph.value(named: "shape")?.constantHostTensor(in: folded))
    XCTAssertEqual(shape.values(Int64.self), [2, 3, 1])
    let unsqueezed = try XCTUnwrap(folded.graph.value(named: "vu")?.constantFloats(in: folded))
    XCTAssertEqual(unsqueezed.shape, [3, 1])
    XCTAssertEqual(log.count("fold-constants"), 6)
    XCTAssertTrue(log.refusals.isEmpty, "\(log.refusals)")
    try RewriteTestSupport.assertSameOutputs(model, folded)
    try RewriteTestSupport.assertValidInOnnxAndOrt(folded)
  }

  func testSubgraphFoldsOuterConstantAndDeadBranchGoes() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x, bool c) => (float[2] y) {
        k = Constant <value = float[2] {1, 2}> ()
        u = If (c) <then_branch = t () => (float[2] p) { q = Neg (k)
          p = Add (q, x) }, else_branch = e () => (float[2] p2) { p2 = Identity (k) }>
        y = Add (x, u)
      }
      """)
    let (folded, log) = try fold(model)
    let ifNode = try XCTUnwrap(folded.graph.nodes.first { $0.opType == "If" })
    let thenBranch = try XCTUnwrap(ifNode.subgraphs.first)
    XCTAssertEqual(thenBranch.nodes.map(\.opType), ["Add"])
    XCTAssertEqual(thenBranch.initializers.map(\.name), ["q"])
    XCTAssertEqual(folded.graph.initializers.map(\.name), ["k"])
    XCTAssertTrue(log.refusals.contains { $0.reason.contains("'p2'") && $0.reason.contains("skip case 3") })
    for flag in [true, false] {
      var inputs = RewriteTestSupport.randomInputs(model)
      inputs["c"] = HostTensor(.bool, shape: [], values: [flag])
      try RewriteTestSupport.assertSameOutputs(model, folded, inputs: inputs)
    }
    try RewriteTestSupport.assertValidInOnnxAndOrt(folded)
  }

  func testIRVersion3ListsNewInitializersAsInputs() throws {
    let text = """
      <ir_version: 3, opset_import: ["" : 9]>
      g (float[2] x, float[2] w) => (float[2] y) <float[2] w = {1, 2}> {
        n = Neg (w)
        y = Add (x, n)
      }
      """
    let model = try RewriteTestSupport.model(text, irVersion: 3)
    let (folded, _) = try fold(model)
    XCTAssertEqual(folded.graph.nodes.map(\.opType), ["Add"])
    let negated = try XCTUnwrap(folded.graph.value(named: "n"))
    XCTAssertTrue(folded.graph.inputs.contains { $0 === negated }, "ir 3 initializers must be graph inputs")
    XCTAssertEqual(negated.constantFloats(in: folded)?.values, [-1, -2])
    try RewriteTestSupport.assertSameOutputs(model, folded)
    try RewriteTestSupport.assertValidInOnnxAndOrt(folded)
  }

  // MARK: Must not fire

  func testNonConstantInputIsLeftSilently() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 15]>
      g (float[N,3] x) => (float[N,3] y) <float[3] w = {1, 2, 3}> {
        a = Add (x, w)
        sh = Shape (x)
        y = Reshape (a, sh)
      }
      """)
    let (folded, log) = try fold(model)
    try assertUnchanged(model, folded)
    XCTAssertEqual(log.count("fold-constants"), 0)
    XCTAssertTrue(log.refusals.isEmpty, "\(log.refusals)")
    try RewriteTestSupport.assertSameOutputs(model, folded)
  }

  func testGraphOutputIsKept() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x) => (float[2] y, float[2] k) {
        k = Constant <value = float[2] {1, 2}> ()
        y = Add (x, k)
      }
      """)
    let (folded, log) = try fold(model)
    try assertUnchanged(model, folded)
    XCTAssertEqual(log.refusals.map(\.reason), ["output 'k' of node Constant -> 'k' is a graph output (skip case 3)"])
    try RewriteTestSupport.assertSameOutputs(model, folded)
    try RewriteTestSupport.assertValidInOnnxAndOrt(folded)
  }

  func testRandomNormalIsNotFolded() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,3] x) => (float[2,3] y) {
        r = RandomNormal <shape = [2, 3], seed = 1.0> ()
        y = Add (x, r)
      }
      """)
    let (folded, log) = try fold(model)
    try assertUnchanged(model, folded)
    XCTAssertEqual(log.refusals.count, 1)
    XCTAssertTrue(log.refusals.first?.reason.contains("not deterministic (skip case 1)") ?? false, "\(log.refusals)")
    try RewriteTestSupport.assertValidInOnnxAndOrt(folded)
  }

  func testOverridableInitializerIsNotConstantFromIRVersion4() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x, float[2] w) => (float[2] y) <float[2] w = {1, 2}> {
        n = Neg (w)
        y = Add (x, n)
      }
      """)
    let (folded, log) = try fold(model)
    try assertUnchanged(model, folded)
    XCTAssertTrue(log.refusals.isEmpty)
    var inputs = RewriteTestSupport.randomInputs(model)
    inputs["w"] = HostTensor.floats([5, -7], shape: [2])
    try RewriteTestSupport.assertSameOutputs(model, folded, inputs: inputs)
    try RewriteTestSupport.assertValidInOnnxAndOrt(folded)
  }

  func testOutputOverTheSizeLimitIsRefused() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,3] x) => (float[2,3] y) <int64[2] s = {2, 3}, float[2,3] b = {1, 2, 3, 4, 5, 6}> {
        c = ConstantOfShape <value = float[1] {1.5}> (s)
        n = Neg (b)
        y = Sum (x, c, n)
      }
      """)
    let (folded, log) = try fold(model, pass: FoldConstants(maximumOutputBytes: 20))
    XCTAssertEqual(folded.graph.nodes.map(\.opType), ["ConstantOfShape", "Neg", "Sum"])
    XCTAssertEqual(log.refusals.count, 2)
    XCTAssertTrue(log.refusals.allSatisfy { $0.reason.hasSuffix("(skip case 4)") }, "\(log.refusals)")
    try assertUnchanged(model, folded)
  }

  func testDequantizeLinearOfAWeightIsKeptUnlessAsked() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,2] x) => (float[2,2] y) <int8[2,2] wq = {1, -2, 3, 127}, float ws = {0.5}, int8 wz = {1}> {
        w = DequantizeLinear (wq, ws, wz)
        y = MatMul (x, w)
      }
      """)
    let (kept, log) = try fold(model)
    try assertUnchanged(model, kept)
    XCTAssertEqual(log.refusals.count, 1)
    XCTAssertTrue(log.refusals.first?.reason.hasSuffix("(skip case 9)") ?? false, "\(log.refusals)")
    let (folded, _) = try fold(model, pass: FoldConstants(keepsDequantizeLinear: false))
    XCTAssertEqual(folded.graph.nodes.map(\.opType), ["MatMul"])
    let quantized = try XCTUnwrap(model.graph.value(named: "wq")?.constantFloats(in: model)).values
    let scale = try XCTUnwrap(model.graph.value(named: "ws")?.constantFloats(in: model)).values[0]
    let zeroPoint = try XCTUnwrap(model.graph.value(named: "wz")?.constantFloats(in: model)).values[0]
    let weight = try XCTUnwrap(folded.graph.value(named: "w")?.constantFloats(in: folded))
    XCTAssertEqual(weight.values, quantized.map { ($0 - zeroPoint) * scale })
    try RewriteTestSupport.assertSameOutputs(model, folded)
    try RewriteTestSupport.assertValidInOnnxAndOrt(folded)
  }

  func testMissingKernelAndFailingKernelAreRefusedWithReasons() throws {
    let live = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13, "custom.domain" : 1]>
      g (float[2] x) => (float[2] y, float[5] z) <float[2] w = {1, 2}, int64[1] bad = {5}> {
        c = custom.domain.Mystery (w)
        y = Add (x, c)
        r = Reshape (w, bad)
        z = Identity (r)
      }
      """, check: false)
    let (foldedLive, liveLog) = try fold(live)
    try assertUnchanged(live, foldedLive)
    let liveReasons = liveLog.refusals.map(\.reason)
    XCTAssertEqual(liveReasons.count, 2, "\(liveReasons)")
    XCTAssertTrue(liveReasons.contains { $0.contains("no kernel for Mystery") && $0.hasSuffix("(skip case 5)") })
    XCTAssertTrue(liveReasons.contains { $0.contains("Reshape kernel failed") && $0.hasSuffix("(skip case 6)") })
  }
}
