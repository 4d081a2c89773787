import Foundation
import XCTest

@testable import ONNXQAT

/// `lower` and `verify`: each rule on a small fake-quant graph written in ONNX text (positive and
/// negative), models from our `insert` and from onnxruntime's quantize_static, and the proof:
/// the lowered model passes onnx.checker and runs in onnxruntime with outputs equal to our
/// executor's bit for bit; against the fake-quant graph it differs by at most 1 LSB on a
/// counted fraction of elements (float accumulation in the fake-quant graph against exact int32
/// accumulation in the integer one; lookup tables and data movement are exact).
final class LoweringTests: XCTestCase {
  /// Lowers a copy of `model`; returns the lowered model and the report.
  private func lower(_ model: Model, _ options: LoweringOptions = LoweringOptions()) throws -> (Model, LoweringReport) {
    let copy = try RewriteTestSupport.copy(model)
    let report = try IntegerLowering.lower(copy, options: options)
    return (copy, report)
  }

  /// onnxruntime runs `model` on seeded inputs; our executor must give the same outputs bit for bit.
  static func assertOrtEqualsExecutor(
    _ model: Model, test: XCTestCase, file: StaticString = #filePath, line: UInt = #line
  )
    throws
  {
    let folder = try TestSupport.temporaryDirectory(test)
    try ModelSaver.save(model, to: folder + "/model.onnx")
    let check = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/check_models.py", "--ort", folder + "/model.onnx"])
    XCTAssertEqual(check.status, 0, check.stdout + check.stderr, file: file, line: line)
    let reference = try TestSupport.run(
      TestSupport.python,
      [TestSupport.root + "/Tests/interop/ort_reference.py", folder + "/ort", folder + "/model.onnx"])
    XCTAssertEqual(reference.status, 0, reference.stdout + reference.stderr, file: file, line: line)
    let initializers = Set(model.graph.initializers.map(\.name))
    var inputs: [String: HostTensor] = [:]
    for (index, value) in model.graph.inputs.filter({ !initializers.contains($0.name) }).enumerated() {
      inputs[value.name] = try HostTensor(try TensorFile.load(path: "\(folder)/ort/0/input_\(index).pb"))
    }
    let ours = try Interpreter(model: model).run(inputs)
    for (index, value) in model.graph.outputs.enumerated() {
      let expected = try HostTensor(try TensorFile.load(path: "\(folder)/ort/0/output_\(index).pb"))
      let actual = try XCTUnwrap(ours[value.name], file: file, line: line)
      try ExecutorInteropTests.compare(actual, expected, name: value.name, exact: true)
    }
  }

  /// Verifies `lowered` against `qdq` on deterministic samples; returns the report.
  private func verify(_ qdq: Model, _ lowered: Model, samples: Int = 3) throws -> VerifyReport {
    let data = QDQInsertionTests.samples(qdq, count: samples)
    return try Verifier.verify(qdq: qdq, integer: lowered, float: nil, samples: ArrayCalibrationSource(data))
  }

  // MARK: Rules on text models

  static let convText: String = {
    let w = (0..<54).map { String(Float(($0 * 7) % 11 - 5) / 20) }.joined(separator: ", ")
    return """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1,2,5,5] x) => (float[1,3,5,5] y)
        <float[3,2,3,3] w = {\(w)}, float[3] b = {0.5, -0.25, 0.125}, float xs = {0.03125}, uint8 xz = {128},
         float[3] ws = {0.01, 0.02, 0.015}, int8[3] wz = {0, 0, 0}, float ys = {0.0625}, uint8 yz = {0}>
      {
        xq = QuantizeLinear(x, xs, xz)
        xd = DequantizeLinear(xq, xs, xz)
        wq = QuantizeLinear<axis = 0>(w, ws, wz)
        wd = DequantizeLinear<axis = 0>(wq, ws, wz)
        c = Conv<pads = [1, 1, 1, 1]>(xd, wd, b)
        r = Relu(c)
        yq = QuantizeLinear(r, ys, yz)
        y = DequantizeLinear(yq, ys, yz)
      }
      """
  }()

  private func convModel() throws -> Model { try RewriteTestSupport.model(Self.convText) }

  func testConvWithAbsorbedReluBecomesQLinearConv() throws {
    let qdq = try convModel()
    let (lowered, report) = try lower(qdq)
    XCTAssertEqual(report.lowered.map(\.rule), ["Conv -> QLinearConv"])
    XCTAssertEqual(report.islands, [])
    XCTAssertEqual(report.opsAfter["QLinearConv"], 1)
    XCTAssertNil(report.opsAfter["Conv"])
    XCTAssertNil(report.opsAfter["Relu"], "zero point 0 makes the Relu redundant")
    XCTAssertEqual(lowered.graph.value(named: "w_quantized")?.initializer?.elementType, nil)
    let conv = try XCTUnwrap(lowered.graph.nodes.first { $0.opType == "QLinearConv" })
    XCTAssertEqual(conv.input(3)?.initializer?.elementType, .int8, "the weight is an int8 initializer")
    XCTAssertEqual(conv.input(8)?.initializer?.elementType, .int32, "the bias is int32")
    let proof = try verify(qdq, lowered)
    let output = try XCTUnwrap(proof.outputs.first)
    XCTAssertLessThanOrEqual(output.maxLSB, 1)
    print("Conv -> QLinearConv: \(output.differing) of \(output.elements) elements differ by 1 LSB")
    try Self.assertOrtEqualsExecutor(lowered, test: self)
  }

  func testReluBeforeNonZeroZeroPointBecomesIntegerClip() throws {
    let qdq = try RewriteTestSupport.model(
      Self.convText.replacingOccurrences(of: "uint8 yz = {0}", with: "uint8 yz = {10}"))
    let (lowered, report) = try lower(qdq)
    XCTAssertEqual(report.opsAfter["Clip"], 1)
    XCTAssertEqual(try verify(qdq, lowered).outputs.first?.maxLSB ?? 9, 1, accuracy: 1)
    try Self.assertOrtEqualsExecutor(lowered, test: self)
  }

  func testLookupTableEqualsTheFakeQuantGraphExactly() throws {
    let qdq = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[4,16] x) => (float[4,16] y)
        <float xs = {0.05}, int8 xz = {-3}, float ys = {0.0039215}, uint8 yz = {0}>
      {
        xq = QuantizeLinear(x, xs, xz)
        xd = DequantizeLinear(xq, xs, xz)
        s = Sigmoid(xd)
        yq = QuantizeLinear(s, ys, yz)
        y = DequantizeLinear(yq, ys, yz)
      }
      """)
    let (lowered, report) = try lower(qdq)
    XCTAssertEqual(report.lowered.map(\.rule), ["elementwise -> 256-entry lookup"])
    XCTAssertEqual(report.opsAfter["Gather"], 1)
    let proof = try verify(qdq, lowered, samples: 4)
    XCTAssertEqual(proof.outputs.first?.differing, 0, "a lookup table is exact by construction")
    XCTAssertNil(proof.firstDeparture)
    try Self.assertOrtEqualsExecutor(lowered, test: self)
  }

  func testDataMovementNeedsEqualParameters() throws {
    let text = """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,3,4] x) => (float[3,2,4] y, float[3,2,4] z)
        <float s = {0.1}, uint8 zp = {7}, float s2 = {0.2}>
      {
        xq = QuantizeLinear(x, s, zp)
        xd = DequantizeLinear(xq, s, zp)
        t = Transpose<perm = [1, 0, 2]>(xd)
        tq = QuantizeLinear(t, s, zp)
        y = DequantizeLinear(tq, s, zp)
        u = Transpose<perm = [1, 0, 2]>(xd)
        uq = QuantizeLinear(u, s2, zp)
        z = DequantizeLinear(uq, s2, zp)
      }
      """
    let qdq = try RewriteTestSupport.model(text)
    let log = RewriteLog()
    let copy = try RewriteTestSupport.copy(qdq)
    let report = try IntegerLowering.lower(copy, log: log)
    XCTAssertEqual(report.lowered.first?.nodes.count, 1, "only the Transpose with equal parameters moves")
    XCTAssertEqual(report.islands.count, 1)
    XCTAssertTrue(
      log.refusals.contains { $0.reason.contains("skip 2") && $0.reason.contains("differ") }, "\(log.refusals)")
    XCTAssertEqual(try verify(qdq, copy).outputs.map(\.differing), [0, 0])
    try Self.assertOrtEqualsExecutor(copy, test: self)
  }

  // MARK: Bad input

  func testModelsThatCannotBeLoweredAreRefusedWithTheNodeNamed() throws {
    let plain = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x) => (float[2] y) { y = Relu(x) }
      """)
    XCTAssertThrowsError(try lower(plain)) { XCTAssertTrue("\($0)".contains("no QuantizeLinear/DequantizeLinear")) }
    for (scale, message) in [("0.0", "positive"), ("-1.0", "positive")] {
      let model = try RewriteTestSupport.model(
        Self.convText.replacingOccurrences(of: "float ys = {0.0625}", with: "float ys = {\(scale)}"), check: false)
      XCTAssertThrowsError(try lower(model)) { error in
        XCTAssertTrue("\(error)".contains(message) && "\(error)".contains("ys"), "\(error)")
      }
    }
    let dynamicScale = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2] x, float s) => (float[2] y) <uint8 z = {0}> {
        q = QuantizeLinear(x, s, z)
        y = DequantizeLinear(q, s, z)
      }
      """)
    XCTAssertThrowsError(try lower(dynamicScale)) {
      XCTAssertTrue("\($0)".contains("is not a float32 constant"), "\($0)")
    }
  }

  func testFloatIslandIsReportedAndStrictRefusesIt() throws {
    let qdq = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 17]>
      g (float[2,8] x) => (float[2,8] y) <float s = {0.05}, uint8 z = {128}, float[8] g = {1,1,1,1,1,1,1,1}> {
        xq = QuantizeLinear(x, s, z)
        xd = DequantizeLinear(xq, s, z)
        n = LayerNormalization(xd, g)
        nq = QuantizeLinear(n, s, z)
        y = DequantizeLinear(nq, s, z)
      }
      """)
    let (_, report) = try lower(qdq)
    XCTAssertEqual(report.islands.map(\.opType), ["LayerNormalization"])
    XCTAssertTrue(report.islands[0].reason.contains("no lowering rule"), report.islands[0].reason)
    var strict = LoweringOptions()
    strict.strict = true
    XCTAssertThrowsError(try lower(qdq, strict)) {
      XCTAssertTrue("\($0)".contains("--strict: 1 float island"), "\($0)")
    }
  }

  // MARK: Whole models

  func testTinyCNNFromInsertLowersAndVerifies() throws {
    let float = try ModelLoader.load(path: TestSupport.fixtures + "/tiny_cnn.onnx")
    let qdq = try RewriteTestSupport.copy(float)
    var options = QuantizationOptions()
    // 7-bit weights: onnxruntime's AVX2 uint8 x int8 QLinearConv saturates int16 pair sums with
    // full-range weights (74 of 8192 conv1 outputs off by up to 32 here), which the exact
    // integer arithmetic of our executor does not.
    options.reduceRange = true
    _ = try QDQInsertionTests.insert(qdq, options)
    let (lowered, report) = try lower(qdq)
    print(
      "tiny_cnn lowered: \(report.lowered.map { "\($0.rule) \($0.nodes.count)" }), islands \(report.islands.map(\.node))"
    )
    XCTAssertNil(report.opsAfter["Conv"])
    XCTAssertEqual(report.opsAfter["QLinearConv"], 3)
    let proof = try verify(qdq, lowered)
    for output in proof.outputs {
      print("tiny_cnn verify \(output.name): \(output.differing)/\(output.elements) differ, max \(output.maxLSB) LSB")
      XCTAssertLessThanOrEqual(output.maxLSB, 3)
    }
    try Self.assertOrtEqualsExecutor(lowered, test: self)
  }

  /// Fine-tuning moves the float weights behind the weight Q->DQ pairs of our `insert` output
  /// (`--weights-form qdq`); `lower` must quantize the weights it finds, not the ones `insert` saw.
  /// The fine-tuned graph lowers to integer weights that differ from the untuned lowering's, its
  /// integer graph stays within the usual LSB of the fine-tuned fake-quant graph (a lowering with
  /// stale weights departs much further), and onnxruntime runs it bit-exactly like our executor.
  func testFineTunedWeightsAreTheOnesLowered() throws {
    let qdq = try ModelLoader.load(path: TestSupport.fixtures + "/tiny_cnn.onnx")
    var options = QuantizationOptions()
    options.reduceRange = true  // see testTinyCNNFromInsertLowersAndVerifies
    _ = try QDQInsertionTests.insert(qdq, options)
    let tuned = try RewriteTestSupport.copy(qdq)
    var moved = 0
    for node in tuned.graph.nodes where node.opType == "QuantizeLinear" {
      guard let weight = node.inputs.first ?? nil, let tensor = weight.constantTensor(in: tuned) else { continue }
      let values = try HostTensor(tensor).values(Float.self)
      // A deterministic "training step": every weight moves by up to 8% of its size.
      let stepped = values.enumerated().map { index, value in value * (1 + 0.08 * Float(sin(Double(index) * 1.7))) }
      let updated = HostTensor(.float, shape: tensor.dims.map { Int($0) }, values: stepped)
      try tuned.graph.setInitializer(weight, updated.irTensor(name: weight.name))
      moved += 1
    }
    XCTAssertEqual(moved, 4, "tiny_cnn has three Conv weights and one Gemm weight behind Q->DQ")

    let (stale, _) = try lower(qdq)
    let (lowered, report) = try lower(tuned)
    XCTAssertTrue(report.islands.isEmpty, "\(report.islands)")
    func integerWeights(_ model: Model) throws -> [[Double]] {
      try model.graph.nodes.filter { $0.opType == "QLinearConv" }.map { node in
        let weight = try XCTUnwrap(node.inputs[3]?.constantTensor(in: model), "weight of \(node.label)")
        return try HostTensor(weight).doubles()
      }
    }
    let staleWeights = try integerWeights(stale)
    let tunedWeights = try integerWeights(lowered)
    XCTAssertEqual(tunedWeights.count, 3)
    XCTAssertNotEqual(staleWeights, tunedWeights, "the fine-tuned weights must reach the integer graph")

    let proof = try verify(tuned, lowered)
    let staleProof = try verify(tuned, stale)
    for (output, staleOutput) in zip(proof.outputs, staleProof.outputs) {
      print(
        "fine-tuned tiny_cnn \(output.name): \(output.differing)/\(output.elements) differ (max \(output.maxLSB) LSB); "
          + "lowered from the untuned weights: \(staleOutput.differing) differ (max \(staleOutput.maxLSB) LSB)")
      XCTAssertLessThanOrEqual(output.maxLSB, 3)
      XCTAssertGreaterThan(staleOutput.maxLSB, output.maxLSB)
    }
    try Self.assertOrtEqualsExecutor(lowered, test: self)
  }

  /// onnxruntime's quantize_static QDQ models (Benchmarks/executor_models.py): lowered by us and
  /// fused by onnxruntime's own optimizer. Ours leaves no more float compute than onnxruntime's
  /// graph, runs in onnxruntime with outputs equal to our executor's, and verifies.
  func testOnnxRuntimeQDQModelsLowerAtLeastAsFarAsOnnxRuntimeFuses() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let generate = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Benchmarks/executor_models.py", folder, "--small"])
    XCTAssertEqual(generate.status, 0, generate.stderr)
    for stem in ["resnet_block", "mobilenet_block"] {
      let qdq = try ModelLoader.load(path: "\(folder)/\(stem)_qdq.onnx")
      let (lowered, report) = try lower(qdq)
      let path = "\(folder)/\(stem)_ours.onnx"
      try ModelSaver.save(lowered, to: path)
      let counts = try TestSupport.run(
        TestSupport.python, [TestSupport.root + "/Tests/interop/float_ops.py", path, "\(folder)/\(stem)_qlinear.onnx"])
      XCTAssertEqual(counts.status, 0, counts.stderr)
      let lines = counts.stdout.split(separator: "\n").map { String($0) }
      let floats = try lines.map { line -> Int in
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        return object?["float_ops"] as? Int ?? -1
      }
      print(
        "\(stem): float ops ours \(floats[0]), onnxruntime's fusion \(floats[1]); islands \(report.islands.map(\.node))"
      )
      print("\(stem) ours: \(lines[0])\n\(stem) onnxruntime: \(lines[1])")
      XCTAssertLessThanOrEqual(floats[0], floats[1], stem)
      try Self.assertOrtEqualsExecutor(lowered, test: self)
      let proof = try verify(qdq, lowered)
      for output in proof.outputs {
        print("\(stem) verify \(output.name): \(output.differing)/\(output.elements) differ, max \(output.maxLSB) LSB")
      }
    }
  }

  /// --int-io: integer inputs and outputs, their parameters in the metadata; onnxruntime runs it
  /// and agrees with our executor; dequantizing its output gives the float-IO graph's output.
  func testIntegerIOExposesIntegersAndRecordsTheirParameters() throws {
    let qdq = try RewriteTestSupport.model(Self.convText)
    var options = LoweringOptions()
    options.integerIO = true
    let (lowered, _) = try lower(qdq, options)
    XCTAssertEqual(lowered.graph.inputs.first?.type?.tensorType?.elementType, .uint8)
    XCTAssertEqual(lowered.graph.outputs.first?.type?.tensorType?.elementType, .uint8)
    XCTAssertEqual(lowered.graph.inputs.map(\.name), ["x"])
    XCTAssertEqual(lowered.graph.outputs.map(\.name), ["y"])
    let metadata = Dictionary(uniqueKeysWithValues: lowered.metadataProps.map { ($0.key, $0.value) })
    XCTAssertEqual(metadata["onnx-qat.io.x"], #"{"type": "uint8", "scale": 0.03125, "zero_point": 128}"#)
    XCTAssertEqual(metadata["onnx-qat.io.y"], #"{"type": "uint8", "scale": 0.0625, "zero_point": 0}"#)
    XCTAssertFalse(lowered.graph.nodes.contains { $0.opType == "QuantizeLinear" || $0.opType == "DequantizeLinear" })
    try Self.assertOrtEqualsExecutor(lowered, test: self)
    let (floatIO, _) = try lower(qdq)
    let input = RewriteTestSupport.randomInputs(qdq)["x"]
    let x = try XCTUnwrap(input)
    let xq = (0..<x.count).map {
      UInt8(min(max((x.values(Float.self)[$0] / 0.03125).rounded(.toNearestOrEven) + 128, 0), 255))
    }
    let integerOut = try XCTUnwrap(
      try Interpreter(model: lowered).run(["x": HostTensor(.uint8, shape: x.shape, values: xq)])["y"])
    let floatOut = try XCTUnwrap(try Interpreter(model: floatIO).run(["x": x])["y"])
    XCTAssertEqual(integerOut.values(UInt8.self).map { Float(Int32($0) - 0) * 0.0625 }, floatOut.values(Float.self))
  }
}
