import Foundation
import XCTest

@testable import ONNXQAT

/// MergeDuplicateInitializers: equal constants (type, dims and bytes) share the first
/// initializer; different dims or types, overridable inputs and graph outputs are left alone.
final class MergeDuplicateInitializersTests: XCTestCase {
  private func merge(_ model: Model) throws -> (Model, RewriteLog, Bool) {
    let copy = try RewriteTestSupport.copy(model)
    let log = RewriteLog()
    let result = try MergeDuplicateInitializers().run(copy, log: log)
    return (copy, log, result.modified)
  }

  func testEqualInitializersAreMergedIntoTheFirst() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x) => (float[2] y) <float[2] a = {1, 2}, float[2] b = {1, 2}, float[2] c = {1, 2}> {
        s = Add (x, a)
        m = Mul (s, b)
        y = Sub (m, c)
      }
      """)
    let (after, log, modified) = try merge(model)
    XCTAssertTrue(modified)
    XCTAssertEqual(after.graph.initializers.map(\.name), ["a"])
    XCTAssertEqual(after.graph.nodes.map { $0.input(1)?.name }, ["a", "a", "a"])
    let bytes = try XCTUnwrap(model.graph.initializers.last?.initializer?.payloadBytes()).count
    XCTAssertEqual(log.notes.map(\.message), ["merged 2 duplicate initializers, saving \(2 * bytes) bytes"])
    try RewriteTestSupport.assertSameOutputs(model, after)
    try RewriteTestSupport.assertValidInOnnxAndOrt(after)
  }

  func testMergeReachesSubgraphUses() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x, bool c) => (float[2] y) <float[2] a = {3, 4}, float[2] b = {3, 4}> {
        s = Add (x, a)
        y = If (c) <then_branch = t () => (float[2] o) { o = Mul (s, b) }, else_branch = e () => (float[2] o2) {
          o2 = Sub (s, b) }>
      }
      """)
    let (after, _, modified) = try merge(model)
    XCTAssertTrue(modified)
    XCTAssertEqual(after.graph.initializers.map(\.name), ["a"])
    let branchInputs = after.graph.nodes.flatMap { $0.subgraphs.flatMap(\.nodes) }.compactMap { $0.input(1)?.name }
    XCTAssertEqual(branchInputs, ["a", "a"])
    for flag in [true, false] {
      var inputs = RewriteTestSupport.randomInputs(model)
      inputs["c"] = HostTensor(.bool, shape: [], values: [flag])
      try RewriteTestSupport.assertSameOutputs(model, after, inputs: inputs)
    }
    try RewriteTestSupport.assertValidInOnnxAndOrt(after)
  }

  func testIRVersion3MergesInputListedConstants() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 3, opset_import: ["" : 9]>
      g (float[2] x, float[2] a, float[2] b) => (float[2] y) <float[2] a = {1, 2}, float[2] b = {1, 2}> {
        s = Add (x, a)
        y = Mul (s, b)
      }
      """, irVersion: 3)
    let (after, _, modified) = try merge(model)
    XCTAssertTrue(modified)
    XCTAssertEqual(after.graph.initializers.map(\.name), ["a"])
    XCTAssertEqual(after.graph.inputs.map(\.name), ["x", "a"])
    try RewriteTestSupport.assertSameOutputs(model, after)
    try RewriteTestSupport.assertValidInOnnxAndOrt(after)
  }

  /// Two large weights (over the 2 x 64 KiB the bucket hash reads) with `values`; y = (x + a) * b.
  private func largePair(_ a: [Float], _ b: [Float]) throws -> Model {
    let graph = Graph(name: "g")
    let x = Value(name: "x", type: .tensor(.float, [Dimension(integerLiteral: Int64(a.count))]))
    graph.inputs = [x]
    let first = try graph.addInitializer(named: "a", HostTensor.floats(a, shape: [a.count]).irTensor(name: "a"))
    let second = try graph.addInitializer(named: "b", HostTensor.floats(b, shape: [b.count]).irTensor(name: "b"))
    let add = Node(opType: "Add", inputs: [x, first], outputNames: ["s"])
    try graph.append(add)
    let mul = Node(opType: "Mul", inputs: [add.output, second], outputNames: ["y"])
    try graph.append(mul)
    let y = try XCTUnwrap(mul.output)
    y.type = .tensor(.float, [Dimension(integerLiteral: Int64(a.count))])
    graph.outputs = [y]
    return Model(graph: graph, irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 13)])
  }

  func testLargeTensorsAreComparedInFull() throws {
    let count = 50_000
    let values = (0..<count).map { Float($0 % 97) / 8 }
    var middle = values
    middle[count / 2] += 1
    let different = try largePair(values, middle)
    let (kept, _, keptModified) = try merge(different)
    XCTAssertFalse(keptModified, "tensors differing only in the middle must not merge")
    let payloads = try different.graph.initializers.map { try XCTUnwrap($0.initializer?.payloadBytes()) }
    XCTAssertEqual(
      MergeDuplicateInitializers.sampledHash(payloads[0]), MergeDuplicateInitializers.sampledHash(payloads[1]),
      "the case is meant to share a bucket")
    try RewriteTestSupport.assertSameOutputs(different, kept)
    let equal = try largePair(values, values)
    let (merged, log, modified) = try merge(equal)
    XCTAssertTrue(modified)
    XCTAssertEqual(merged.graph.initializers.map(\.name), ["a"])
    XCTAssertEqual(log.notes.map(\.message), ["merged 1 duplicate initializer, saving \(count * 4) bytes"])
    try RewriteTestSupport.assertSameOutputs(equal, merged)
  }

  // MARK: Must not fire

  func testDifferentDimsTypesOrValuesAreKept() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,2] x) => (float[2,2] y)
        <float[4] a = {1, 2, 3, 4}, float[2,2] b = {1, 2, 3, 4}, float[2,2] c = {1, 2, 3, 5},
         int32[4] d = {1, 2, 3, 4}, int32[4] e = {1065353216, 1073741824, 1077936128, 1082130432},
         int64[2] s = {2, 2}> {
        ar = Reshape (a, s)
        p = Add (x, ar)
        q = Mul (p, b)
        r = Sub (q, c)
        dc = Cast <to = 1> (d)
        ec = Cast <to = 1> (e)
        dr = Reshape (dc, s)
        er = Reshape (ec, s)
        t = Add (r, dr)
        y = Add (t, er)
      }
      """)
    let (after, log, modified) = try merge(model)
    XCTAssertFalse(modified)
    XCTAssertTrue(log.notes.isEmpty)
    XCTAssertEqual(try ModelSaver.serialize(after), try ModelSaver.serialize(model))
    // `e` holds the float32 bit patterns of `a` as int32: equal bytes, different type.
    let aBytes = try XCTUnwrap(model.graph.value(named: "a")?.initializer?.payloadBytes())
    let eBytes = try XCTUnwrap(model.graph.value(named: "e")?.initializer?.payloadBytes())
    XCTAssertEqual(aBytes, eBytes)
    try RewriteTestSupport.assertSameOutputs(model, after)
  }

  func testOverridableInputAndGraphOutputAreKept() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x, float[2] w) => (float[2] y, float[2] k) <float[2] a = {1, 2}, float[2] w = {1, 2},
        float[2] k = {1, 2}> {
        s = Add (x, a)
        y = Mul (s, w)
      }
      """)
    let (after, _, modified) = try merge(model)
    XCTAssertFalse(modified)
    XCTAssertEqual(after.graph.initializers.map(\.name), ["a", "w", "k"])
    var inputs = RewriteTestSupport.randomInputs(model)
    inputs["w"] = HostTensor.floats([-3, 0.5], shape: [2])
    try RewriteTestSupport.assertSameOutputs(model, after, inputs: inputs)
    try RewriteTestSupport.assertValidInOnnxAndOrt(after)
  }
}
