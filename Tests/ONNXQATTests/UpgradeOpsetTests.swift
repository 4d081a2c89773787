import Foundation
import XCTest

@testable import ONNXQAT

/// The ai.onnx opset upgrade: each conversion on a model written for the old opset, checked for
/// the converted node's form, equal outputs through our executor before and after, and validity
/// in onnx.checker and onnxruntime; refusals that name the node and leave the model untouched;
/// ONNX's light models upgraded from opset 9 to 13 and 21.
final class UpgradeOpsetTests: XCTestCase {
  // MARK: Helpers

  /// Parses `text`, upgrades a copy to `target`, and checks equal outputs and validity.
  /// Returns the upgraded model and the log.
  @discardableResult
  private func upgrade(
    _ text: String, irVersion: Int = 8, to target: Int64, inputs: [String: HostTensor]? = nil,
    file: StaticString = #filePath, line: UInt = #line
  ) throws -> (model: Model, log: RewriteLog) {
    let original = try RewriteTestSupport.model(text, irVersion: irVersion)
    let model = try RewriteTestSupport.copy(original)
    let log = RewriteLog()
    let result = try UpgradeOpset(target: target).run(model, log: log)
    XCTAssertTrue(result.modified, file: file, line: line)
    XCTAssertEqual(model.opsetVersion(""), target, file: file, line: line)
    try RewriteTestSupport.assertSameOutputs(original, model, inputs: inputs, file: file, line: line)
    try RewriteTestSupport.assertValidInOnnxAndOrt(model, file: file, line: line)
    return (model, log)
  }

  private func nodes(_ model: Model, _ opType: String) -> [Node] {
    model.allGraphs.flatMap(\.nodes).filter { $0.opType == opType }
  }

  private func node(named name: String, in model: Model) throws -> Node {
    try XCTUnwrap(model.allGraphs.flatMap(\.nodes).first { $0.name == name }, "no node '\(name)'")
  }

  /// The int64 elements of `value`: an initializer or a Constant node's tensor.
  private func int64s(_ value: Value?, in model: Model) throws -> [Int64] {
    let value = try XCTUnwrap(value)
    if let tensor = value.initializer { return try HostTensor(tensor).values(Int64.self) }
    let producer = try XCTUnwrap(value.producer, "'\(value.name)' is not constant")
    guard producer.opType == "Constant", case .tensor(let tensor)? = producer.attribute("value")?.value else {
      XCTFail("'\(value.name)' is produced by \(producer.opType)")
      return []
    }
    return try HostTensor(tensor).values(Int64.self)
  }

  /// Asserts that upgrading `text` throws a bad-argument error containing every one of
  /// `fragments`, and that the model is byte-for-byte what it was.
  private func assertRefused(
    _ text: String, irVersion: Int = 8, check: Bool = true, to target: Int64, _ fragments: [String],
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let model = try RewriteTestSupport.model(text, irVersion: irVersion, check: check)
    let before = try ModelSaver.serialize(model)
    XCTAssertThrowsError(try UpgradeOpset(target: target).run(model, log: RewriteLog()), file: file, line: line) {
      error in
      guard case ONNXQATError.badArgument(let message)? = error as? ONNXQATError else {
        return XCTFail("unexpected error \(error)", file: file, line: line)
      }
      for fragment in fragments {
        XCTAssertTrue(message.contains(fragment), "'\(fragment)' not in: \(message)", file: file, line: line)
      }
    }
    XCTAssertEqual(try ModelSaver.serialize(model), before, "the refused model changed", file: file, line: line)
  }

  // MARK: Opset 13 changes

  func testOpset11UnsqueezeAndSoftmaxFamily() throws {
    let (model, log) = try upgrade(
      """
      <ir_version: 7, opset_import: ["" : 11]>
      g (float[2,3,4] x) => (float[1,2,3,4] u, float[2,3,4] s, float[2,3,4] t, float[2,3,4] h) {
        u = Unsqueeze <axes = [0]> (x)
        s = Softmax <axis = 1> (x)
        t = LogSoftmax <axis = 2> (x)
        h = Hardmax (x)
      }
      """, irVersion: 7, to: 13)
    let unsqueeze = try XCTUnwrap(nodes(model, "Unsqueeze").first)
    XCTAssertEqual(unsqueeze.inputs.count, 2)
    XCTAssertNil(unsqueeze.attribute("axes"))
    XCTAssertEqual(try int64s(unsqueeze.input(1), in: model), [0])
    // Softmax over axis 1 of a rank-3 input: Flatten, Softmax on the last axis, Reshape back.
    let softmax = try XCTUnwrap(nodes(model, "Softmax").first)
    XCTAssertEqual(softmax.int("axis", default: 99), -1)
    XCTAssertEqual(softmax.input(0)?.producer?.opType, "Flatten")
    XCTAssertEqual(softmax.input(0)?.producer?.int("axis", default: 99), 1)
    let s = try XCTUnwrap(model.graph.outputs.first { $0.name == "s" })
    XCTAssertEqual(s.producer?.opType, "Reshape")
    XCTAssertEqual(s.producer?.input(1)?.producer?.opType, "Shape")
    // LogSoftmax on the last axis keeps its single node, with the axis written out.
    let logSoftmax = try XCTUnwrap(nodes(model, "LogSoftmax").first)
    XCTAssertEqual(logSoftmax.input(0)?.name, "x")
    XCTAssertEqual(logSoftmax.int("axis", default: 99), 2)
    // Hardmax's old default axis 1 is not the last axis of x.
    XCTAssertEqual(nodes(model, "Hardmax").first?.input(0)?.producer?.opType, "Flatten")
    XCTAssertEqual(nodes(model, "Flatten").count, 2)
    XCTAssertEqual(
      log.notes.map(\.message),
      ["ai.onnx opset 11 -> 13: converted 4 nodes (Unsqueeze 1, Softmax 1, LogSoftmax 1, Hardmax 1)"])
    XCTAssertEqual(log.count("softmax-single-axis"), 3)
  }

  func testSoftmaxRankFromValueInfoAndProducers() throws {
    // Rank 2 is known from Gemm's output; rank 4 from the graph input through Relu.
    let (model, _) = try upgrade(
      """
      <ir_version: 7, opset_import: ["" : 11]>
      g (float[2,3] a, float[3,4] b, float[2,3,2,2] x) => (float[2,4] s, float[2,3,2,2] r) {
        m = Gemm (a, b)
        s = Softmax (m)
        y = Relu (x)
        r = Softmax <axis = 3> (y)
      }
      """, irVersion: 7, to: 13)
    XCTAssertTrue(nodes(model, "Flatten").isEmpty)
    XCTAssertEqual(nodes(model, "Softmax").map { $0.int("axis", default: 99) }, [1, 3])
  }

  func testOpset11SqueezeSplitReduceSum() throws {
    let (model, _) = try upgrade(
      """
      <ir_version: 7, opset_import: ["" : 11]>
      g (float[1,4,1] x) => (float[4] q, float[1,1,1] a, float[1,3,1] b, float[1,1,1] r, float[1,1,1] all) {
        q = Squeeze <axes = [0, 2]> (x)
        a, b = Split <axis = 1, split = [1, 3]> (x)
        r = ReduceSum <axes = [1]> (x)
        all = ReduceSum (x)
      }
      """, irVersion: 7, to: 13)
    let squeeze = try XCTUnwrap(nodes(model, "Squeeze").first)
    XCTAssertEqual(try int64s(squeeze.input(1), in: model), [0, 2])
    let split = try XCTUnwrap(nodes(model, "Split").first)
    XCTAssertNil(split.attribute("split"))
    XCTAssertEqual(try int64s(split.input(1), in: model), [1, 3])
    let reduces = nodes(model, "ReduceSum")
    XCTAssertEqual(reduces.map(\.inputs.count), [2, 1])
    XCTAssertEqual(try int64s(reduces[0].input(1), in: model), [1])
    XCTAssertTrue(reduces.allSatisfy { $0.attribute("axes") == nil })
  }

  func testIfBranchesAreConverted() throws {
    let text = """
      <ir_version: 7, opset_import: ["" : 11]>
      g (bool c, float[2,3] x) => (float[1,2,3] y) {
        y = If (c) <
          then_branch = t () => (float[1,2,3] ty) { ty = Unsqueeze <axes = [0]> (x) },
          else_branch = e () => (float[1,2,3] ey) { n = Neg (x)  ey = Unsqueeze <axes = [0]> (n) }
        >
      }
      """
    for condition: UInt8 in [0, 1] {
      let inputs = [
        "c": HostTensor(.bool, shape: [], values: [condition]),
        "x": HostTensor.floats([1, -2, 3, -4, 5, -6], shape: [2, 3]),
      ]
      let (model, log) = try upgrade(text, irVersion: 7, to: 13, inputs: inputs)
      let unsqueezes = nodes(model, "Unsqueeze")
      XCTAssertEqual(unsqueezes.count, 2)
      for node in unsqueezes {
        XCTAssertEqual(node.inputs.count, 2)
        XCTAssertEqual(try int64s(node.input(1), in: model), [0])
        XCTAssertTrue(node.graph !== model.graph)
      }
      XCTAssertEqual(log.count("unsqueeze-axes-to-input"), 2)
    }
  }

  func testModelLocalFunctionBodyIsConverted() throws {
    let (model, log) = try upgrade(
      """
      <ir_version: 8, opset_import: ["" : 11, "local" : 1]>
      g (float[2,3] x) => (float[1,2,3] y) {
        y = local.AddDim (x)
      }
      <domain: "local", opset_import: ["" : 11]>
      AddDim (a) => (b) {
        s = Softmax (a)
        b = Unsqueeze <axes = [0]> (s)
      }
      """, to: 13)
    let function = try XCTUnwrap(model.functions.first)
    XCTAssertEqual(function.opsetImports.first { $0.normalizedDomain.isEmpty }?.version, 13)
    let unsqueeze = try XCTUnwrap(function.body.nodes.first { $0.opType == "Unsqueeze" })
    XCTAssertEqual(unsqueeze.input(1)?.producer?.opType, "Constant")
    XCTAssertTrue(function.body.initializers.isEmpty)
    // The rank of a function input is unknown: Softmax takes the general form.
    XCTAssertTrue(function.body.nodes.contains { $0.opType == "Flatten" })
    XCTAssertEqual(
      log.notes.map(\.message),
      [
        "ai.onnx opset 11 -> 13: converted 0 nodes",
        "function 'AddDim': ai.onnx opset 11 -> 13: converted 2 nodes (Softmax 1, Unsqueeze 1)",
      ])
  }

  // MARK: Opsets 7-12

  func testOpset9ClipPadSliceTopKDropout() throws {
    let (model, _) = try upgrade(
      """
      <ir_version: 4, opset_import: ["" : 9]>
      g (float[2,6] x) => (float[2,6] c, float[4,8] p, float[1,3] s, float[2,2] v, int64[2,2] i, float[2,6] d) {
        c = Clip <min = -0.5, max = 0.75> (x)
        p = Pad <pads = [1, 1, 1, 1], value = 1.5> (x)
        s = Slice <starts = [0, 1], ends = [1, 4], axes = [0, 1]> (x)
        v, i = TopK <k = 2> (x)
        d = Dropout <ratio = 0.25> (x)
      }
      """, irVersion: 4, to: 13)
    let clip = try XCTUnwrap(nodes(model, "Clip").first)
    XCTAssertEqual(clip.inputs.count, 3)
    XCTAssertTrue(clip.attributes.isEmpty)
    XCTAssertEqual(clip.input(2)?.initializer.flatMap { try? HostTensor($0).values(Float.self) }, [0.75])
    let pad = try XCTUnwrap(nodes(model, "Pad").first)
    XCTAssertEqual(try int64s(pad.input(1), in: model), [1, 1, 1, 1])
    XCTAssertEqual(pad.input(2)?.initializer.flatMap { try? HostTensor($0).values(Float.self) }, [1.5])
    let slice = try XCTUnwrap(nodes(model, "Slice").first)
    XCTAssertEqual(try slice.inputs.dropFirst().map { try int64s($0, in: model) }, [[0, 1], [1, 4], [0, 1]])
    let topK = try XCTUnwrap(nodes(model, "TopK").first)
    XCTAssertEqual(topK.input(1)?.initializer?.dims, [1])
    XCTAssertEqual(try int64s(topK.input(1), in: model), [2])
    let dropout = try XCTUnwrap(nodes(model, "Dropout").first)
    XCTAssertEqual(dropout.inputs.count, 2)
    XCTAssertNil(dropout.attribute("ratio"))
  }

  func testUnusedDropoutMaskBecomesBool() throws {
    let (model, log) = try upgrade(
      """
      <ir_version: 4, opset_import: ["" : 9]>
      g (float[2,3] x) => (float[2,3] y) <float[2,3] m> {
        d, m = Dropout <ratio = 0.5> (x)
        y = Relu (d)
      }
      """, irVersion: 4, to: 13)
    let dropout = try node(model, "Dropout")
    XCTAssertEqual(dropout.outputs.count, 2)
    XCTAssertEqual(dropout.outputs[1]?.type?.tensorType?.elementType, .bool)
    XCTAssertEqual(log.count("dropout-mask-type"), 1)
    XCTAssertEqual(log.count("dropout-ratio-to-input"), 1)
  }

  func testClipWithoutKnownElementTypeIsRefused() throws {
    try assertRefused(
      """
      <ir_version: 7, opset_import: ["" : 10, "local" : 1]>
      g (float[2] x) => (float[2] y) { y = local.F (x) }
      <domain: "local", opset_import: ["" : 10]>
      F (a) => (b) { b = Clip <max = 1.0> (a) }
      """, irVersion: 7, to: 13, ["function 'F': ", "Clip", "element type of input 'a'"])
  }

  func testUpsampleLightModelStyleOpset9() throws {
    // IR 3 as in ONNX's light models: new constants become Constant nodes.
    let text = """
      <ir_version: 3, opset_import: ["" : 9]>
      g (float[1,2,2,3] x) => (float[1,2,4,6] n, float[1,2,4,6] l) {
        scales = Constant <value = float[4] {1.0, 1.0, 2.0, 2.0}> ()
        n = Upsample <mode = "nearest"> (x, scales)
        l = Upsample <mode = "linear"> (x, scales)
      }
      """
    let (model, log) = try upgrade(text, irVersion: 3, to: 13)
    XCTAssertTrue(nodes(model, "Upsample").isEmpty)
    let resizes = nodes(model, "Resize")
    XCTAssertEqual(resizes.count, 2)
    for resize in resizes {
      XCTAssertEqual(resize.inputs.count, 3)
      XCTAssertNil(resize.input(1))
      XCTAssertEqual(resize.input(2)?.name, "scales")
      XCTAssertEqual(resize.stringAttribute("coordinate_transformation_mode", default: ""), "asymmetric")
    }
    XCTAssertEqual(resizes[0].stringAttribute("nearest_mode", default: ""), "floor")
    XCTAssertNil(resizes[1].attribute("nearest_mode"))
    XCTAssertEqual(log.count("upsample-to-resize"), 2)
    // To opset 10: Resize-10 with the same inputs; to 11: an empty roi in a Constant node.
    let (ten, _) = try upgrade(text, irVersion: 3, to: 10)
    XCTAssertEqual(nodes(ten, "Resize").map(\.inputs.count), [2, 2])
    let (eleven, _) = try upgrade(text, irVersion: 3, to: 11)
    let roi = try XCTUnwrap(nodes(eleven, "Resize").first?.input(1))
    XCTAssertEqual(roi.producer?.opType, "Constant")
    XCTAssertTrue(eleven.graph.initializers.isEmpty)
  }

  func testUpsampleScalesAttributeOpset7() throws {
    let text = """
      <ir_version: 4, opset_import: ["" : 7]>
      g (float[1,1,2,2] x) => (float[1,1,6,4] y) {
        y = Upsample <mode = "nearest", scales = [1.0, 1.0, 3.0, 2.0]> (x)
      }
      """
    let (model, _) = try upgrade(text, irVersion: 4, to: 13)
    let resize = try XCTUnwrap(nodes(model, "Resize").first)
    XCTAssertNil(resize.attribute("scales"))
    XCTAssertEqual(resize.input(2)?.initializer.flatMap { try? HostTensor($0).values(Float.self) }, [1, 1, 3, 2])
    // To opset 9, Upsample stays and takes its scales as an input.
    let (nine, _) = try upgrade(text, irVersion: 4, to: 9)
    let upsample = try XCTUnwrap(nodes(nine, "Upsample").first)
    XCTAssertEqual(upsample.inputs.count, 2)
    XCTAssertNil(upsample.attribute("scales"))
  }

  func testResize10NearestRounding() throws {
    for (scales, rounding, output) in [
      ("1.0, 1.0, 2.0, 3.0", "floor", "2,2,6,9"), ("1.0, 1.0, 0.5, 0.5", "ceil", "2,2,1,1"),
    ] {
      let (model, _) = try upgrade(
        """
        <ir_version: 5, opset_import: ["" : 10]>
        g (float[2,2,3,3] x) => (float[\(output)] y) <float[4] s = {\(scales)}> {
          y = Resize <mode = "nearest"> (x, s)
        }
        """, irVersion: 5, to: 13)
      let resize = try XCTUnwrap(nodes(model, "Resize").first)
      XCTAssertEqual(resize.stringAttribute("nearest_mode", default: ""), rounding)
      XCTAssertEqual(resize.input(2)?.name, "s")
    }
    let (linear, _) = try upgrade(
      """
      <ir_version: 5, opset_import: ["" : 10]>
      g (float[1,1,3,3] x) => (float[1,1,6,6] y) <float[4] s = {1.0, 1.0, 2.0, 2.0}> {
        y = Resize <mode = "linear"> (x, s)
      }
      """, irVersion: 5, to: 11)
    let resize = try XCTUnwrap(nodes(linear, "Resize").first)
    XCTAssertEqual(resize.input(1)?.initializer?.dims, [0])
    XCTAssertNil(resize.attribute("nearest_mode"))
  }

  /// Saves both models and compares them in onnxruntime on the same random inputs.
  private func assertSameInOnnxRuntime(
    _ original: Model, _ upgraded: Model, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let folder = try TestSupport.temporaryDirectory(self)
    try ModelSaver.save(original, to: folder + "/original.onnx")
    try ModelSaver.save(upgraded, to: folder + "/upgraded.onnx")
    let result = try TestSupport.run(
      TestSupport.python,
      [TestSupport.root + "/Tests/interop/ort_compare.py", folder + "/original.onnx=" + folder + "/upgraded.onnx"])
    XCTAssertEqual(result.status, 0, result.stdout + result.stderr, file: file, line: line)
  }

  func testResizeTfHalfPixelForNNOpset11To13() throws {
    for (rounding, replacement) in [("floor", "round_prefer_ceil"), ("round_prefer_floor", "ceil")] {
      let text = """
        <ir_version: 7, opset_import: ["" : 11]>
        g (float[1,2,4,5] x) => (float[1,2,6,3] y)
          <float[0] roi = {}, float[4] s = {1.0, 1.0, 1.7, 0.6}> {
          y = Resize <mode = "nearest", coordinate_transformation_mode = "tf_half_pixel_for_nn",
                      nearest_mode = "\(rounding)"> (x, roi, s)
        }
        """
      let (model, _) = try upgrade(text, irVersion: 7, to: 13)
      let resize = try node(model, "Resize")
      XCTAssertEqual(resize.stringAttribute("coordinate_transformation_mode", default: ""), "half_pixel")
      XCTAssertEqual(resize.stringAttribute("nearest_mode", default: ""), replacement)
      try assertSameInOnnxRuntime(try RewriteTestSupport.model(text, irVersion: 7), model)
    }
    try assertRefused(
      """
      <ir_version: 7, opset_import: ["" : 11]>
      g (float[1,1,4,4] x) => (float[1,1,8,8] y) <float[0] roi = {}, float[4] s = {1.0, 1.0, 2.0, 2.0}> {
        y = Resize <mode = "linear", coordinate_transformation_mode = "tf_half_pixel_for_nn"> (x, roi, s)
      }
      """, irVersion: 7, to: 13, ["Resize", "'linear' at tf_half_pixel_for_nn"])
  }

  func testResize10MixedScalesAreRefused() throws {
    try assertRefused(
      """
      <ir_version: 5, opset_import: ["" : 10]>
      g (float[1,1,4,4] x) => (float[1,1,8,2] y) <float[4] s = {1.0, 1.0, 2.0, 0.5}> {
        y = Resize <mode = "nearest"> (x, s)
      }
      """, irVersion: 5, to: 13, ["Resize", "both above and below 1"])
    try assertRefused(
      """
      <ir_version: 5, opset_import: ["" : 10]>
      g (float[1,1,4,4] x, float[4] s) => (float[1,1,8,8] y) {
        y = Resize <mode = "nearest"> (x, s)
      }
      """, irVersion: 5, to: 13, ["Resize", "not constant"])
  }

  func testScatterBecomesScatterElements() throws {
    let (model, _) = try upgrade(
      """
      <ir_version: 5, opset_import: ["" : 10]>
      g (float[3,3] data) => (float[3,3] y) <int64[1,3] i = {2, 0, 1}, float[1,3] u = {7.0, 8.0, 9.0}> {
        y = Scatter <axis = 0> (data, i, u)
      }
      """, irVersion: 5, to: 13)
    XCTAssertEqual(model.graph.nodes.map(\.opType), ["ScatterElements"])
    XCTAssertEqual(model.graph.nodes.first?.int("axis", default: 9), 0)
  }

  func testBatchNormalizationLegacyAttributes() throws {
    let (model, log) = try upgrade(
      """
      <ir_version: 3, opset_import: ["" : 5]>
      g (float[2,3,2,2] x, float[3] s, float[3] b, float[3] m, float[3] v) => (float[2,3,2,2] r) {
        y = BatchNormalization <is_test = 1, epsilon = 0.001, consumed_inputs = [0, 0, 0, 1, 1]> (x, s, b, m, v)
        r = Relu <consumed_inputs = [0]> (y)
      }
      """, irVersion: 3, to: 13,
      inputs: [
        "x": .floats((0..<24).map { Float($0) / 4 - 3 }, shape: [2, 3, 2, 2]), "s": .floats([1, 2, 0.5], shape: [3]),
        "b": .floats([0, -1, 1], shape: [3]), "m": .floats([0.5, 0, -1], shape: [3]),
        "v": .floats([1, 4, 0.25], shape: [3]),
      ])
    XCTAssertEqual(try node(model, "BatchNormalization").attributes.map(\.name), ["epsilon"])
    XCTAssertTrue(try node(model, "Relu").attributes.isEmpty)
    XCTAssertEqual(log.count("remove-consumed-inputs"), 2)
    XCTAssertEqual(log.count("remove-is-test"), 1)
    let (seven, _) = try upgrade(
      """
      <ir_version: 3, opset_import: ["" : 7]>
      g (float[2,3,2] x, float[3] s, float[3] b, float[3] m, float[3] v) => (float[2,3,2] y) {
        y = BatchNormalization <spatial = 1> (x, s, b, m, v)
      }
      """, irVersion: 3, to: 13)
    XCTAssertNil(seven.graph.nodes.first?.attribute("spatial"))
  }

  func testOpset3ConcatAndReshapeForms() throws {
    let (model, log) = try upgrade(
      """
      <ir_version: 3, opset_import: ["" : 3]>
      g (float[2,3] a, float[2,1] b) => (float[4,2] y) {
        c = Concat (a, b)
        y = Reshape <shape = [4, 2]> (c)
      }
      """, irVersion: 3, to: 13)
    XCTAssertEqual(try node(model, "Concat").int("axis", default: 99), 1)
    let reshape = try node(model, "Reshape")
    XCTAssertTrue(reshape.attributes.isEmpty)
    XCTAssertEqual(try int64s(reshape.input(1), in: model), [4, 2])
    XCTAssertEqual(reshape.input(1)?.producer?.opType, "Constant")
    XCTAssertEqual(log.count("concat-explicit-axis"), 1)
  }

  func testSeluKeepsItsOpset1Defaults() throws {
    // Our executor applies the opset-6 defaults at every opset, so the upgraded model is
    // compared with the opset-1 formula: gamma * (alpha * exp(x) - alpha) for x <= 0.
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 3, opset_import: ["" : 5]>
      g (float[4] x) => (float[4] y) { y = Selu (x) }
      """, irVersion: 3)
    _ = try UpgradeOpset(target: 13).run(model, log: RewriteLog())
    let selu = try node(model, "Selu")
    XCTAssertEqual(selu.float("alpha", default: 0), 1.6732)
    XCTAssertEqual(selu.float("gamma", default: 0), 1.0507)
    let x: [Float] = [-2, -0.5, 0.5, 2]
    let y = try XCTUnwrap(try Interpreter(model: model).run(["x": .floats(x, shape: [4])])["y"]).values(Float.self)
    let expected = x.map {
      $0 <= 0 ? Float(1.0507) * (Float(1.6732) * Foundation.exp($0) - Float(1.6732)) : 1.0507 * $0
    }
    for (got, want) in zip(y, expected) { XCTAssertEqual(got, want, accuracy: 1e-6) }
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
  }

  func testPReluChannelSlopeOpset6() throws {
    // PRelu-6 applied a [C] slope per channel (axis 1); neither our executor nor onnxruntime
    // runs opset 6, so the upgraded model is compared with that formula.
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 3, opset_import: ["" : 6]>
      g (float[2,3,2] x, float[3] slope) => (float[2,3,2] y) <float[3] slope = {0.5, -1.0, 2.0}> {
        y = PRelu (x, slope)
      }
      """, irVersion: 3)
    let log = RewriteLog()
    _ = try UpgradeOpset(target: 13).run(model, log: log)
    XCTAssertEqual(log.count("prelu-channel-slope"), 1)
    let prelu = try node(model, "PRelu")
    XCTAssertEqual(prelu.input(1)?.producer?.opType, "Reshape")
    XCTAssertEqual(try int64s(prelu.input(1)?.producer?.input(1), in: model), [-1, 1])
    let x: [Float] = (0..<12).map { Float($0) - 6 }
    let slope: [Float] = [0.5, -1, 2]
    let y = try XCTUnwrap(try Interpreter(model: model).run(["x": .floats(x, shape: [2, 3, 2])])["y"])
    let expected = x.indices.map { x[$0] < 0 ? slope[($0 / 2) % 3] * x[$0] : x[$0] }
    XCTAssertEqual(y.values(Float.self), expected)
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
  }

  func testLegacyBroadcastOpset6() throws {
    // Neither our executor nor onnxruntime runs opset 6's Add, so the upgraded model is
    // compared with the sum computed here: B aligned with the trailing axis of A.
    let original = try RewriteTestSupport.model(
      """
      <ir_version: 3, opset_import: ["" : 6]>
      g (float[2,3] a, float[3] b) => (float[2,3] c) {
        c = Add <broadcast = 1, axis = 1> (a, b)
      }
      """, irVersion: 3)
    let log = RewriteLog()
    _ = try UpgradeOpset(target: 13).run(original, log: log)
    XCTAssertTrue(try node(original, "Add").attributes.isEmpty)
    XCTAssertEqual(log.count("remove-legacy-broadcast"), 1)
    let a: [Float] = [1, 2, 3, 4, 5, 6]
    let b: [Float] = [10, 20, 30]
    let output = try Interpreter(model: original).run(["a": .floats(a, shape: [2, 3]), "b": .floats(b, shape: [3])])
    XCTAssertEqual(output["c"]?.values(Float.self), a.indices.map { a[$0] + b[$0 % 3] })
    try RewriteTestSupport.assertValidInOnnxAndOrt(original)
  }

  private func node(_ model: Model, _ opType: String) throws -> Node {
    try XCTUnwrap(nodes(model, opType).first, "no \(opType) node")
  }

  // MARK: Opsets 18 and 21

  func testOpset13ReduceAxesAndSplitTo18And21() throws {
    let text = """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,4,3] x) => (float[2,1,3] m, float[2,3] mx, float[2,2,3] a, float[2,2,3] b, float[1,1,1] p) {
        m = ReduceMean <axes = [1]> (x)
        mx = ReduceMax <axes = [-2], keepdims = 0> (x)
        a, b = Split <axis = 1> (x)
        p = ReduceProd (x)
      }
      """
    for target: Int64 in [18, 21] {
      let (model, log) = try upgrade(text, to: target)
      XCTAssertEqual(try int64s(try node(model, "ReduceMean").input(1), in: model), [1])
      XCTAssertEqual(try int64s(try node(model, "ReduceMax").input(1), in: model), [-2])
      XCTAssertEqual(try node(model, "ReduceProd").inputs.count, 1)
      XCTAssertEqual(try node(model, "Split").int("num_outputs", default: 0), 2)
      XCTAssertEqual(
        log.notes.map(\.message),
        ["ai.onnx opset 13 -> \(target): converted 3 nodes (ReduceMean 1, ReduceMax 1, Split 1)"])
    }
  }

  func testGroupNormalizationTo21IsRefused() throws {
    try assertRefused(
      """
      <ir_version: 8, opset_import: ["" : 18]>
      g (float[1,4,2] x, float[2] s, float[2] b) => (float[1,4,2] y) {
        y = GroupNormalization <num_groups = 2> (x, s, b)
      }
      """, check: false, to: 21,
      ["GroupNormalization", "per channel"])
  }

  // MARK: Refusals and untouched models

  func testRefusalNamesTheNodeAndLeavesTheModelUntouched() throws {
    // The Unsqueeze could be converted, but the BatchNormalization cannot: nothing changes.
    try assertRefused(
      """
      <ir_version: 3, opset_import: ["" : 7]>
      g (float[2,3,2] x, float[3] s, float[3] b, float[3] m, float[3] v) => (float[1,2,3,2] y) {
        n = BatchNormalization <spatial = 0> (x, s, b, m, v)
        y = Unsqueeze <axes = [0]> (n)
      }
      """, irVersion: 3, to: 13,
      ["BatchNormalization", "spatial", "opset to 13"])
    try assertRefused(
      """
      <ir_version: 7, opset_import: ["" : 11]>
      g (float[2] x) => (float[1,2] y) {
        odd = Fancy (x)
        y = Unsqueeze <axes = [0]> (odd)
      }
      """, irVersion: 7, check: false, to: 13, ["Fancy", "not an ai.onnx operator"])
    try assertRefused(
      """
      <ir_version: 7, opset_import: ["" : 9]>
      g (float[2] x) => (float[2] y, float[2] mask) {
        y, mask = Dropout (x)
      }
      """, irVersion: 7, to: 13, ["Dropout", "mask output 'mask'", "is used"])
  }

  func testTrainingInfoIsRefused() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 7, opset_import: ["" : 11]>
      g (float[2] x) => (float[1,2] y) { y = Unsqueeze <axes = [0]> (x) }
      """, irVersion: 7)
    model.trainingInfo = [Data()]
    XCTAssertThrowsError(try UpgradeOpset(target: 13).run(model, log: RewriteLog())) { error in
      XCTAssertTrue("\(error)".contains("training_info"), "\(error)")
    }
    XCTAssertEqual(model.opsetVersion(""), 11)
    XCTAssertEqual(model.graph.nodes.first?.inputs.count, 1)
  }

  func testNamedNodeAppearsInRefusal() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 3, opset_import: ["" : 6]>
      g (float[2,3] x, float[2] w) => (float[2,3] y) {
        [bad_add] y = Add <broadcast = 1, axis = 0> (x, w)
      }
      """, irVersion: 3)
    XCTAssertThrowsError(try UpgradeOpset(target: 13).run(model, log: RewriteLog())) { error in
      XCTAssertTrue("\(error)".contains("'bad_add' (Add)"), "\(error)")
    }
  }

  func testNothingToDoAtOrAboveTarget() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 11]>
      g (float[2] x) => (float[1,2] y) { y = Unsqueeze <axes = [0]> (x) }
      """)
    XCTAssertTrue(try UpgradeOpset(target: 13).run(model, log: RewriteLog()).modified)
    let before = try ModelSaver.serialize(model)
    let log = RewriteLog()
    let again = try UpgradeOpset(target: 13).run(model, log: log)
    XCTAssertFalse(again.modified)
    XCTAssertTrue(log.notes.isEmpty)
    XCTAssertEqual(try ModelSaver.serialize(model), before)
    XCTAssertFalse(try UpgradeOpset(target: 11).run(model, log: log).modified)
    XCTAssertThrowsError(try UpgradeOpset(target: 1000).run(model, log: log))
  }

  func testOtherDomainsAreLeftAlone() throws {
    let original = try RewriteTestSupport.model(
      """
      <ir_version: 7, opset_import: ["" : 11, "com.microsoft" : 1, "ai.onnx.ml" : 2]>
      g (float[2] x) => (float[1,2] y, float[2] g, float[2] n) {
        y = Unsqueeze <axes = [0]> (x)
        g = com.microsoft.Gelu (x)
        n = ai.onnx.ml.Normalizer <norm = "MAX"> (x)
      }
      """, irVersion: 7, check: false)
    let model = try RewriteTestSupport.copy(original)
    _ = try UpgradeOpset(target: 13).run(model, log: RewriteLog())
    XCTAssertEqual(model.opsetVersion("com.microsoft"), 1)
    XCTAssertEqual(model.opsetVersion("ai.onnx.ml"), 2)
    XCTAssertEqual(model.opsetVersion(""), 13)
    XCTAssertEqual(model.graph.nodes.map(\.opType), ["Unsqueeze", "Gelu", "Normalizer"])
    XCTAssertEqual(model.graph.nodes[2].stringAttribute("norm", default: ""), "MAX")
    XCTAssertEqual(model.graph.nodes[1].inputs.count, 1)
  }

  // MARK: Tables

  func testSchemaTableMatchesInstalledOnnx() throws {
    try TestSupport.requirePython()
    let result = try TestSupport.run(TestSupport.python, [TestSupport.root + "/Tests/interop/opset_schemas.py"])
    XCTAssertEqual(result.status, 0, result.stderr)
    let committed = try String(
      contentsOfFile: TestSupport.root + "/Sources/ONNXQAT/Passes/OpsetConversions/OpsetSchemaVersions.swift",
      encoding: .utf8)
    XCTAssertEqual(result.stdout, committed, "regenerate with Tests/interop/opset_schemas.py")
  }

  func testEveryChangedSchemaHasAConversion() {
    var uncovered: [String] = []
    for opType in OpsetSchemaVersions.table.keys.sorted() {
      guard let history = OpsetSchemaHistory(opType) else {
        uncovered.append("\(opType): unreadable")
        continue
      }
      for version in history.versions
      where version.change == .changed || (version.deprecated && version.change != .introduced) {
        let covered = OpsetConversionTable.entries.contains {
          $0.opTypes.contains(opType) && $0.changes.contains(version.since)
        }
        if !covered { uncovered.append("\(opType)-\(version.since)") }
      }
    }
    XCTAssertEqual(uncovered, [])
    XCTAssertEqual(OpsetSchemaHistory("Softmax")?.schema(at: 12)?.since, 11)
    XCTAssertEqual(OpsetSchemaHistory("Unsqueeze")?.versions(after: 11, through: 13).map(\.change), [.changed])
  }

  // MARK: ONNX's light models

  /// Every light model (opset 9) upgraded to 13 and 21: valid in onnx.checker and onnxruntime,
  /// and equal outputs in onnxruntime before and after. Our executor (a debug build here)
  /// compares the two smallest networks too; the conversions themselves are checked through it
  /// one by one above.
  func testLightModelsUpgradeTo13And21() throws {
    let paths = try TestSupport.onnxWheelModels(all: false)
    XCTAssertEqual(paths.count, 9)
    let folder = try TestSupport.temporaryDirectory(self)
    var written: [String] = []
    var pairs: [String] = []
    var notes: [String] = []
    for path in paths {
      let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
      let original = try ModelLoader.load(path: path)
      XCTAssertEqual(original.opsetVersion(""), 9, name)
      let throughExecutor = ["light_squeezenet", "light_shufflenet"].contains(name)
      let feeds = RewriteTestSupport.randomInputs(original)
      let expected = throughExecutor ? try Interpreter(model: original).run(feeds) : [:]
      for target: Int64 in [13, 21] {
        let model = try ModelLoader.load(path: path)
        let log = RewriteLog()
        let start = Date()
        XCTAssertTrue(try UpgradeOpset(target: target).run(model, log: log).modified, name)
        let milliseconds = Int(Date().timeIntervalSince(start) * 1000)
        XCTAssertEqual(model.opsetVersion(""), target)
        XCTAssertTrue(nodes(model, "Unsqueeze").allSatisfy { $0.inputs.count == 2 && $0.attributes.isEmpty }, name)
        XCTAssertTrue(nodes(model, "Dropout").allSatisfy { $0.attribute("ratio") == nil }, name)
        XCTAssertTrue(nodes(model, "Softmax").allSatisfy { $0.attribute("axis") != nil }, name)
        if throughExecutor {
          let actual = try Interpreter(model: model).run(feeds)
          for output in original.graph.outputs {
            let want = try XCTUnwrap(expected[output.name])
            let got = try XCTUnwrap(actual[output.name], "\(name): output \(output.name)")
            XCTAssertEqual(got.shape, want.shape, name)
            let worst = zip(got.doubles(), want.doubles()).map { abs($0 - $1) - 1e-5 * abs($1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-5, "\(name) at opset \(target)")
          }
        }
        let output = folder + "/\(name)-\(target).onnx"
        try ModelSaver.save(model, to: output)
        written.append(output)
        pairs.append(path + "=" + output)
        notes.append("\(name) -> \(target) in \(milliseconds) ms: " + log.notes.map(\.message).joined())
      }
    }
    print(notes.joined(separator: "\n"))
    let check = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/check_models.py", "--ort"] + written)
    XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
    let compare = try TestSupport.run(
      TestSupport.python,
      [TestSupport.root + "/Tests/interop/ort_compare.py", "--rtol", "1e-4", "--atol", "1e-5"] + pairs)
    print(compare.stdout)
    XCTAssertEqual(compare.status, 0, compare.stdout + compare.stderr)
    XCTAssertTrue(compare.stdout.hasSuffix("ort_compare: 18 passed, 0 failed, 0 skipped\n"), compare.stdout)
  }

  /// Every model in the onnx wheel below the target opset (node-test-like simple models,
  /// pytorch-converted and -operator models, real and light models, at opsets 6-12 and up to 20
  /// for the target 21) either is refused with the node named, or upgrades to a model that
  /// onnx.checker accepts, that onnxruntime runs when its original came from an opset older
  /// than onnxruntime supports (7), and that computes what the original computes in onnxruntime
  /// otherwise (pairs whose original onnxruntime cannot run on random inputs are skipped).
  func testEveryONNXWheelModelUpgradesOrIsRefused() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    var written: [String] = []
    var ancient: [String] = []
    var pairs: [String] = []
    var refused: [String] = []
    for (index, path) in try TestSupport.onnxWheelModels(all: true).enumerated() {
      for target: Int64 in [13, 21] {
        let model = try ModelLoader.load(path: path)
        guard let from = model.opsetVersion(""), from < target else { continue }
        do {
          _ = try UpgradeOpset(target: target).run(model, log: RewriteLog())
        } catch ONNXQATError.badArgument(let message) {
          XCTAssertTrue(message.contains("' (") || message.contains(" #"), message)
          refused.append("\(path) -> \(target): \(message)")
          continue
        }
        let output = "\(folder)/\(index)-\(target).onnx"
        try ModelSaver.save(model, to: output)
        written.append(output)
        if from >= 7 { pairs.append(path + "=" + output) } else { ancient.append(output) }
      }
    }
    print("upgraded \(written.count), refused \(refused.count):\n" + refused.joined(separator: "\n"))
    XCTAssertGreaterThan(written.count, 200)
    let check = try TestSupport.run(TestSupport.python, [TestSupport.root + "/Tests/interop/check_models.py"] + written)
    XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
    let run = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/check_models.py", "--ort"] + ancient)
    XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
    let compare = try TestSupport.run(
      TestSupport.python,
      [
        TestSupport.root + "/Tests/interop/ort_compare.py", "--rtol", "1e-4", "--atol", "1e-5",
        "--skip-failing-original",
      ]
        + pairs)
    XCTAssertEqual(compare.status, 0, compare.stdout + compare.stderr)
    print(
      [check.stdout, run.stdout, compare.stdout].compactMap { $0.split(separator: "\n").last }.joined(separator: "\n"))
    print(compare.stdout.split(separator: "\n").filter { $0.contains("skipped,") }.joined(separator: "\n"))
  }
}
