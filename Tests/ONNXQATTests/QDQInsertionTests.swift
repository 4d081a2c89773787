import Foundation
import XCTest

@testable import ONNXQAT

/// `insert`: the plan (which tensors, which scheme), the written Q/DQ pairs, and the fake-quant
/// model against onnxruntime: every QuantizeLinear output bit-exact, float outputs within
/// rtol 1e-4 + atol 1e-5 (float32 summation order differs between the two executors).
final class QDQInsertionTests: XCTestCase {
  /// Deterministic samples for every float input of `model`.
  static func samples(_ model: Model, count: Int) -> [[String: HostTensor]] {
    (0..<count).map { RewriteTestSupport.randomInputs(model, seed: UInt64(1 + $0), dynamicSize: 1) }
  }

  static func insert(_ model: Model, _ options: QuantizationOptions = QuantizationOptions(), samples: Int = 4) throws
    -> InsertReport
  {
    let data = Self.samples(model, count: samples)
    return try QDQInsertion.insert(model, options: options, calibration: { ArrayCalibrationSource(data) })
  }

  /// Runs `model` in onnxruntime with its QuantizeLinear outputs exposed and compares with our
  /// executor: integer tensors exactly, float outputs within tolerance. Returns the number of
  /// integer tensors compared.
  @discardableResult
  static func assertMatchesOnnxRuntime(
    _ model: Model, test: XCTestCase, file: StaticString = #filePath, line: UInt = #line
  )
    throws -> Int
  {
    let folder = try TestSupport.temporaryDirectory(test)
    let path = folder + "/model.onnx"
    try ModelSaver.save(model, to: path)
    let result = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/qdq_crosscheck.py", folder + "/ort", path])
    XCTAssertEqual(result.status, 0, result.stdout + result.stderr, file: file, line: line)
    let exposed = try ModelLoader.load(path: folder + "/ort/exposed.onnx")
    let initializers = Set(exposed.graph.initializers.map(\.name))
    var inputs: [String: HostTensor] = [:]
    for (index, value) in exposed.graph.inputs.filter({ !initializers.contains($0.name) }).enumerated() {
      inputs[value.name] = try HostTensor(try TensorFile.load(path: folder + "/ort/input_\(index).pb"))
    }
    let ours = try Interpreter(model: exposed).run(inputs)
    var integers = 0
    for (index, value) in exposed.graph.outputs.enumerated() {
      let expected = try HostTensor(try TensorFile.load(path: folder + "/ort/output_\(index).pb"))
      guard let actual = ours[value.name] else {
        XCTFail("our executor did not compute '\(value.name)'", file: file, line: line)
        continue
      }
      if !expected.dataType.isFloatingPoint { integers += 1 }
      try ExecutorInteropTests.compare(actual, expected, name: value.name)
    }
    return integers
  }

  /// Conv -> Relu -> Reshape -> MatMul with constant weights (MatMul weights generated).
  static let convReluReshape: String = {
    let m = (0..<288).map { String(Float(($0 * 37) % 17 - 8) / 16) }.joined(separator: ", ")
    return """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1,2,4,4] x) => (float[1,6] y)
        <float[3,2,1,1] w = {0.5, -0.25, 0.125, 1.0, -1.0, 0.75}, float[3] b = {0.1, -0.2, 0.3},
         int64[2] shape = {1, 48}, float[48,6] m = {\(m)}>
      {
        c = Conv(x, w, b)
        r = Relu(c)
        f = Reshape(r, shape)
        y = MatMul(f, m)
      }
      """
  }()

  private func convReluReshapeModel() throws -> Model { try RewriteTestSupport.model(Self.convReluReshape) }

  func testReluIsAbsorbedAndDataMovementSharesItsInputParameters() throws {
    let model = try convReluReshapeModel()
    let report = try Self.insert(model)
    let roles = Dictionary(uniqueKeysWithValues: report.tensors.map { ($0.name, $0.role) })
    XCTAssertEqual(roles["x"], "activation")
    XCTAssertEqual(roles["w"], "weight")
    XCTAssertEqual(roles["m"], "weight")
    XCTAssertNil(roles["c"], "the Conv output feeds a Relu that absorbs it")
    XCTAssertEqual(roles["r"], "activation")
    XCTAssertEqual(roles["f"], "shared")
    XCTAssertEqual(report.tensors.first { $0.name == "f" }?.sharedWith, "r")
    XCTAssertEqual(roles["y"], "activation")
    XCTAssertEqual(report.absorbed.map(\.clamp), ["Relu -> 'r'"])
    XCTAssertEqual(report.tensors.first { $0.name == "r" }?.zeroPoint, 0, "a Relu output starts at zero")
    XCTAssertEqual(report.tensors.first { $0.name == "w" }?.axis, 0)
    XCTAssertEqual(report.tensors.first { $0.name == "m" }?.axis, 1, "MatMul weights are per column")
    XCTAssertEqual(model.graph.outputs.map(\.name), ["y"], "the graph output keeps its name")
    XCTAssertEqual(model.graph.outputs.first?.producer?.opType, "DequantizeLinear")
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
    XCTAssertEqual(try Self.assertMatchesOnnxRuntime(model, test: self), 6)
  }

  func testDqFormStoresWhatQuantizeLinearComputesAndInt32BiasAtInputTimesWeightScale() throws {
    let model = try convReluReshapeModel()
    let float = try RewriteTestSupport.copy(model)
    var options = QuantizationOptions()
    options.weightsForm = .dq
    let report = try Self.insert(model, options)
    XCTAssertEqual(report.weightsForm, "dq")
    let graph = model.graph
    guard let weight = graph.value(named: "w_quantized")?.initializer,
      let scale = graph.value(named: "w_scale")?.initializer,
      let zero = graph.value(named: "w_zero_point")?.initializer,
      let floatWeight = float.graph.value(named: "w")?.initializer
    else { return XCTFail("dq weight initializers missing: \(graph.initializers.map(\.name))") }
    XCTAssertNil(graph.value(named: "w"), "the float weight is gone in the dq form")
    // Our QuantizeLinear kernel on the float weight gives the stored integers.
    let quantize = Node(
      opType: "QuantizeLinear", inputs: [Value(name: "a"), Value(name: "b"), Value(name: "c")], outputNames: ["q"],
      attributes: [.int("axis", 0)])
    let expected = try Interpreter(model: model, checkingKernels: false).evaluate(
      quantize, inputs: [try HostTensor(floatWeight), try HostTensor(scale), try HostTensor(zero)])
    XCTAssertEqual(try HostTensor(weight).values(Int8.self), expected.first??.values(Int8.self))
    // Bias: int32 at s_x * s_w, zero point 0, per channel.
    guard let bias = graph.value(named: "b_quantized")?.initializer,
      let biasScale = graph.value(named: "b_scale")?.initializer,
      let inputScale = graph.value(named: "x_scale")?.initializer
    else { return XCTFail("bias initializers missing: \(graph.initializers.map(\.name))") }
    let sx = try HostTensor(inputScale).values(Float.self)[0]
    let sw = try HostTensor(scale).values(Float.self)
    XCTAssertEqual(try HostTensor(biasScale).values(Float.self), sw.map { sx * $0 })
    let b: [Float] = [0.1, -0.2, 0.3]
    XCTAssertEqual(
      try HostTensor(bias).values(Int32.self), zip(b, sw).map { Int32(($0 / (sx * $1)).rounded(.toNearestOrEven)) })
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
    try Self.assertMatchesOnnxRuntime(model, test: self)
  }

  func testBiasThatWouldOverflowInt32RaisesTheWeightScale() throws {
    let model = try convReluReshapeModel()
    guard let b = model.graph.value(named: "b") else { return XCTFail("no bias") }
    try model.graph.setInitializer(
      b, HostTensor(.float, shape: [3], values: [Float(1e9), -0.2, 0.3]).irTensor(name: "b"))
    var options = QuantizationOptions()
    options.weightsForm = .dq
    let report = try Self.insert(model, options)
    XCTAssertEqual(report.biasAdjustments.first?.channels, [0])
    guard let bias = model.graph.value(named: "b_quantized")?.initializer else { return XCTFail("no int32 bias") }
    let values = try HostTensor(bias).values(Int32.self)
    XCTAssertLessThanOrEqual(abs(Int64(values[0])), Int64(BiasQuantization.limit) + 1)
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
  }

  func testTensorRTPresetPutsQDQOnComputeInputsOnly() throws {
    let model = try convReluReshapeModel()
    let report = try Self.insert(model, QuantizationOptions(preset: .tensorrt))
    let names = Set(report.tensors.map(\.name))
    XCTAssertEqual(names, ["x", "w", "f", "m"])
    XCTAssertTrue(
      report.tensors.filter { $0.role == "activation" }.allSatisfy { $0.type == "int8" && $0.zeroPoint == 0 })
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
    try Self.assertMatchesOnnxRuntime(model, test: self)
  }

  func testExcludeKeepIOFloatAndUnmatchedExclusionWarning() throws {
    let model = try convReluReshapeModel()
    var options = QuantizationOptions()
    options.exclude = ["MatMul", "no-such-node"]
    options.keepIOFloat = true
    let report = try Self.insert(model, options)
    let names = Set(report.tensors.map(\.name))
    XCTAssertFalse(names.contains("x"), "graph input kept float")
    XCTAssertFalse(names.contains("m"), "the excluded MatMul's weight stays float")
    XCTAssertTrue(report.floatNodes.contains { $0.opType == "MatMul" && $0.reason.contains("excluded") })
    XCTAssertEqual(report.warnings, ["--exclude no-such-node matches no node name or op type"])
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
  }

  func testModelWithoutFloatTensorsIsRefused() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (int64[3] x) => (int64[3] y) { y = Neg(x) }
      """)
    XCTAssertThrowsError(try Self.insert(model)) { error in
      XCTAssertTrue("\(error)".contains("no float tensor to quantize"), "\(error)")
    }
  }

  func testTinyCNNFixtureInBothWeightFormsMatchesOnnxRuntime() throws {
    for form in [QuantizationOptions.WeightsForm.qdq, .dq] {
      let model = try ModelLoader.load(path: TestSupport.fixtures + "/tiny_cnn.onnx")
      var options = QuantizationOptions()
      options.weightsForm = form
      let report = try Self.insert(model, options)
      XCTAssertGreaterThan(report.error.first?.snrDecibels ?? 0, 15, "\(form): \(report.error)")
      try RewriteTestSupport.assertValidInOnnxAndOrt(model)
      let compared = try Self.assertMatchesOnnxRuntime(model, test: self)
      XCTAssertGreaterThanOrEqual(compared, 10, "\(form)")
    }
  }

  /// int4 weights in blocks of 8 along the reduction axis and int16 activations (opset 21).
  func testInt4BlockedWeightsAndInt16ActivationsAtOpset21() throws {
    let weights = (0..<64).map { String(Float(($0 * 29) % 23 - 11) / 8) }.joined(separator: ", ")
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 10, opset_import: ["" : 21]>
      g (float[2,16] x) => (float[2,4] y) <float[16,4] w = {\(weights)}> { y = MatMul(x, w) }
      """, irVersion: 10)
    var options = QuantizationOptions()
    options.weightType = QuantType(.int4, restricted: true)
    options.blockSize = 8
    options.activationType = QuantType(.int16)
    options.weightsForm = .dq
    let report = try Self.insert(model, options)
    let weight = try XCTUnwrap(report.tensors.first { $0.name == "w" })
    XCTAssertEqual(weight.type, "int4")
    XCTAssertEqual(weight.blockSize, 8)
    XCTAssertEqual(weight.axis, 0)
    XCTAssertEqual(weight.scales, 8, "2 blocks along K times 4 columns")
    XCTAssertEqual(report.tensors.first { $0.name == "x" }?.type, "int16")
    let stored = try XCTUnwrap(model.graph.value(named: "w_quantized")?.initializer)
    XCTAssertEqual(stored.elementType, .int4)
    XCTAssertTrue(try HostTensor(stored).values(Int8.self).allSatisfy { (-7...7).contains($0) }, "restricted int4")
    try RewriteTestSupport.assertValidInOnnxAndOrt(model)
    try Self.assertMatchesOnnxRuntime(model, test: self)
  }
}
