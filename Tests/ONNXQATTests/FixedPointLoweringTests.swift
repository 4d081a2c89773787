import Foundation
import XCTest

@testable import ONNXQAT

/// `lower --requant fixed-point` and the integer forms of `--target onnx`: the requantization
/// built from ai.onnx integer ops (FixedPointRequantization) against the executor's fixed-point
/// Requantizer (bit for bit, exhaustively over random multipliers and accumulators), whole
/// lowered graphs against the executor running the ort-target graph in fixed-point mode (bit
/// for bit, integer inputs and outputs), against onnxruntime (bit for bit) and against the
/// float-requantization graph (at most 1 LSB; the fraction is counted and printed).
final class FixedPointLoweringTests: XCTestCase {
  static var onnxFixedPoint: LoweringOptions {
    var options = LoweringOptions()
    options.target = .onnx
    options.requantization = .fixedPoint
    return options
  }

  static func lowered(_ model: Model, _ options: LoweringOptions, integerIO: Bool = false) throws -> Model {
    let copy = try RewriteTestSupport.copy(model)
    var options = options
    options.integerIO = integerIO
    _ = try IntegerLowering.lower(copy, options: options)
    return copy
  }

  /// Differences between two integer outputs: elements that differ and the largest difference.
  struct LSBCount {
    var differing = 0
    var elements = 0
    var maximum: Int32 = 0
    var fraction: Double { elements == 0 ? 0 : Double(differing) / Double(elements) }

    mutating func add(_ a: HostTensor, _ b: HostTensor) {
      let (x, y) = (QuantizedValues.int32s(a) ?? [], QuantizedValues.int32s(b) ?? [])
      elements += x.count
      for (p, q) in zip(x, y) where p != q {
        differing += 1
        maximum = max(maximum, abs(p - q))
      }
    }
  }

  /// The proof for one fake-quant model, with integer inputs and outputs: the onnx-target
  /// fixed-point graph equals the ort-target graph run by the executor in fixed-point mode
  /// (except the tensors named in `approximate` and outputs of `islands`), and differs from float
  /// requantization by at most `bound` LSB (1 for single layers; in a whole model a 1 LSB
  /// difference propagates, so there it is counted and printed only).
  @discardableResult
  static func prove(
    _ qdq: Model, _ label: String, islands: [String] = [], approximate: Set<String> = [], samples: Int = 3,
    bound: Int32? = 1, file: StaticString = #filePath, line: UInt = #line
  ) throws -> LSBCount {
    let fixed = try lowered(qdq, onnxFixedPoint, integerIO: true)
    let report = try IntegerLowering.lower(try RewriteTestSupport.copy(qdq), options: onnxFixedPoint)
    XCTAssertEqual(report.islands.map(\.opType), islands, "\(label): float islands", file: file, line: line)
    let ort = try lowered(qdq, LoweringOptions(), integerIO: true)
    XCTAssertFalse(
      fixed.graph.allNodes.contains { !$0.isStandard }, "\(label): ai.onnx ops only", file: file, line: line)
    XCTAssertFalse(
      fixed.graph.allNodes.contains { ["QLinearConv", "QLinearMatMul"].contains($0.opType) },
      "\(label): no float requantization left", file: file, line: line)
    var fixedPointMode = ExecutionOptions()
    fixedPointMode.requantization = .fixedPoint
    var count = LSBCount()
    for seed in 1...samples {
      let inputs = RewriteTestSupport.randomInputs(ort, seed: UInt64(seed), dynamicSize: 1)
      let ours = try integerTensors(fixed, inputs)
      let reference = try integerTensors(ort, inputs, fixedPointMode)
      let float = try integerTensors(ort, inputs)
      let outputs = Set(ort.graph.outputs.map(\.name))
      // Every integer tensor both graphs name alike (lowering keeps the names of the quantized
      // tensors): equal to the executor's fixed-point run, and counted against the float run.
      var compared = 0
      for (name, got) in ours.sorted(by: { $0.key < $1.key }) {
        guard let want = reference[name], want.dataType == got.dataType, islands.isEmpty || !outputs.contains(name),
          let inFloatMode = float[name], !inputs.keys.contains(name)
        else { continue }
        count.add(got, inFloatMode)
        guard !approximate.contains(name) else { continue }
        compared += 1
        XCTAssertEqual(
          QuantizedValues.int32s(got), QuantizedValues.int32s(want),
          "\(label) '\(name)': the integer graph must equal the executor's fixed-point QLinear ops",
          file: file, line: line)
      }
      XCTAssertGreaterThan(compared, 0, "\(label): integer tensors compared", file: file, line: line)
    }
    if let bound {
      XCTAssertLessThanOrEqual(
        count.maximum, bound, "\(label): fixed-point vs float requantization", file: file, line: line)
    }
    print(
      "\(label): fixed-point vs float requantization: \(count.differing) of \(count.elements) integer tensor elements differ"
        + String(format: " (%.3f%%), max %d LSB", 100 * count.fraction, count.maximum))
    return count
  }

  /// Every 8-bit or int32 tensor a run computes (graph inputs and node outputs), by name.
  static func integerTensors(_ model: Model, _ inputs: [String: HostTensor], _ options: ExecutionOptions = .init())
    throws -> [String: HostTensor]
  {
    let interpreter = try Interpreter(model: model, options: options)
    var seen: [String: HostTensor] = [:]
    interpreter.observer = { value, tensor in
      if [.uint8, .int8, .int32].contains(tensor.dataType) { seen[value.name] = tensor }
    }
    _ = try interpreter.run(inputs)
    return seen
  }

  // MARK: The builder against the executor's arithmetic

  /// Every step of the graph's arithmetic (FixedPointRequantization.Constants.apply, the same
  /// int64/uint64 operations the nodes perform) equals the executor's Requantizer in fixed-point
  /// mode, exactly, on 3,000 random multipliers from 2^-30 to 2^8 and accumulators across int32
  /// (those whose TFLite left shift would overflow int32 excluded: TFLite wraps there).
  func testIntegerStepsEqualTheExecutorsFixedPointRequantizer() throws {
    var generator = SystemRandomNumberGenerator()
    var compared = 0
    for _ in 0..<3000 {
      let real = pow(2, Double.random(in: -30..<8, using: &generator))
      let zeroPoint = Int32.random(in: -128...127, using: &generator)
      let range: ClosedRange<Int32> = -128...127
      let requantizer = Requantizer(
        mode: .fixedPoint, scales: [Float(real)], realScales: [real], zeroPoint: zeroPoint, range: range)
      let constants = FixedPointRequantization.Constants(realScales: [real], addend: Int64(zeroPoint))
      let leftShift = max(Requantizer.quantizeMultiplier(real).1, 0)
      let limit = Int64(Int32.max) >> leftShift
      var accumulators = (0..<200).map { _ in Int32(Int64.random(in: -limit...limit, using: &generator)) }
      accumulators += [0, 1, -1, Int32(limit), Int32(-limit)]
      for accumulator in accumulators {
        let graph = min(max(constants.apply(Int64(accumulator), channel: 0), -128), 127)
        XCTAssertEqual(Int32(graph), requantizer.value(accumulator, channel: 0), "real \(real), acc \(accumulator)")
        compared += 1
      }
    }
    print("fixed-point requantization steps: \(compared) accumulators equal the executor's")
  }

  // MARK: Layers

  /// A random quantized Conv layer (per-channel int8 weights behind Q->DQ of float weights, float
  /// bias, uint8 or int8 activations, stride, padding and groups drawn from `seed`).
  static func randomConvText(seed: UInt64) -> String {
    var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    func next() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(state >> 11) / Double(1 << 53)
    }
    let group = next() < 0.3 ? 2 : 1
    let (cin, cout, kernel) = (2 * group, 4, next() < 0.5 ? 3 : 1)
    let stride = next() < 0.5 ? 2 : 1
    let pad = kernel == 3 && next() < 0.7 ? 1 : 0
    let signed = next() < 0.5
    let type = signed ? "int8" : "uint8"
    let xz = signed ? Int(next() * 40) - 20 : Int(next() * 100) + 60
    let yz = signed ? Int(next() * 40) - 20 : Int(next() * 60)
    let weights = (0..<(cout * (cin / group) * kernel * kernel)).map { _ in String(Float(next() * 2 - 1)) }
    let scales = (0..<cout).map { _ in String(Float(0.004 + next() * 0.01)) }
    let bias = (0..<cout).map { _ in String(Float(next() - 0.5)) }
    let ys = Float(0.02 + next() * 0.1)
    let relu = next() < 0.5
    let size = 6
    let out = (size + 2 * pad - kernel) / stride + 1
    return """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1,\(cin),\(size),\(size)] x) => (float[1,\(cout),\(out),\(out)] y)
        <float[\(cout),\(cin / group),\(kernel),\(kernel)] w = {\(weights.joined(separator: ", "))},
         float[\(cout)] b = {\(bias.joined(separator: ", "))}, float xs = {\(Float(0.01 + next() * 0.03))},
         \(type) xz = {\(xz)}, float[\(cout)] ws = {\(scales.joined(separator: ", "))},
         int8[\(cout)] wz = {\([String](repeating: "0", count: cout).joined(separator: ", "))},
         float ys = {\(ys)}, \(type) yz = {\(yz)}>
      {
        xq = QuantizeLinear(x, xs, xz)
        xd = DequantizeLinear(xq, xs, xz)
        wq = QuantizeLinear<axis = 0>(w, ws, wz)
        wd = DequantizeLinear<axis = 0>(wq, ws, wz)
        c = Conv<pads = [\(pad), \(pad), \(pad), \(pad)], strides = [\(stride), \(stride)], group = \(group)>(xd, wd, b)
        \(relu ? "r = Relu(c)" : "r = Identity(c)")
        yq = QuantizeLinear(\(relu ? "r" : "c"), ys, yz)
        y = DequantizeLinear(yq, ys, yz)
      }
      """
  }

  func testConvLayersInFixedPointEqualTheExecutorAndOnnxRuntime() throws {
    try TestSupport.requirePython()
    var total = LSBCount()
    let texts =
      [
        LoweringTests.convText,
        LoweringTests.convText.replacingOccurrences(of: "uint8 yz = {0}", with: "uint8 yz = {10}"),
      ]
      + (1...8).map { Self.randomConvText(seed: UInt64($0)) }
    for (index, text) in texts.enumerated() {
      let qdq = try RewriteTestSupport.model(text)
      let count = try Self.prove(qdq, "conv layer \(index)")
      total.differing += count.differing
      total.elements += count.elements
      let fixed = try Self.lowered(qdq, Self.onnxFixedPoint)
      XCTAssertEqual(fixed.graph.allNodes.filter { $0.opType == "ConvInteger" }.count, 1)
      try LoweringTests.assertOrtEqualsExecutor(fixed, test: self)
    }
    print("conv layers: \(total.differing) of \(total.elements) elements 1 LSB apart (fixed-point vs float)")
  }

  static let matmulText = """
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[3,4] a, float[2,4] m) => (float[3,2] y, float[3,2] z)
      <float[2,4] w = {0.5, -0.25, 0.75, -1.0, 0.125, 0.3, -0.6, 0.9}, float[2] ws = {0.008, 0.0075},
       int8[2] wz = {0, 0}, float[2] c = {0.25, -0.5}, float as = {0.02}, uint8 az = {128},
       float ms = {0.03}, uint8 mz = {100}, float[4,2] v = {0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8},
       float vs = {0.007}, int8 vz = {0}, float ys = {0.05}, uint8 yz = {120}>
    {
      aq = QuantizeLinear(a, as, az)
      ad = DequantizeLinear(aq, as, az)
      wq = QuantizeLinear<axis = 0>(w, ws, wz)
      wd = DequantizeLinear<axis = 0>(wq, ws, wz)
      g = Gemm<transB = 1>(ad, wd, c)
      yq = QuantizeLinear(g, ys, yz)
      y = DequantizeLinear(yq, ys, yz)
      vq = QuantizeLinear(v, vs, vz)
      vd = DequantizeLinear(vq, vs, vz)
      mm = MatMul(ad, vd)
      zq = QuantizeLinear(mm, ys, yz)
      z = DequantizeLinear(zq, ys, yz)
    }
    """

  func testGemmAndMatMulInFixedPointEqualTheExecutorAndOnnxRuntime() throws {
    let qdq = try RewriteTestSupport.model(Self.matmulText)
    try Self.prove(qdq, "gemm + matmul")
    let fixed = try Self.lowered(qdq, Self.onnxFixedPoint)
    XCTAssertEqual(fixed.graph.allNodes.filter { $0.opType == "MatMulInteger" }.count, 2)
    try LoweringTests.assertOrtEqualsExecutor(fixed, test: self)
  }

  static let elementwiseText = """
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1,2,4,4] a, float[1,2,4,4] b) => (float[1,2,4,4] s, float[1,2,4,4] m, float[1,2,1,1] gp,
                                                float[1,2,2,2] ap, float[1,4,4,4] c)
      <float as = {0.03}, uint8 az = {128}, float bs = {0.011}, uint8 bz = {100}, float ys = {0.05}, uint8 yz = {120},
       float ps = {0.013}, uint8 pz = {130}, float ms = {0.09}, uint8 mz = {10}>
    {
      aq = QuantizeLinear(a, as, az)
      ad = DequantizeLinear(aq, as, az)
      bq = QuantizeLinear(b, bs, bz)
      bd = DequantizeLinear(bq, bs, bz)
      sf = Add(ad, bd)
      sq = QuantizeLinear(sf, ys, yz)
      s = DequantizeLinear(sq, ys, yz)
      mf = Mul(ad, bd)
      mq = QuantizeLinear(mf, ms, mz)
      m = DequantizeLinear(mq, ms, mz)
      gf = GlobalAveragePool(ad)
      gq = QuantizeLinear(gf, ps, pz)
      gp = DequantizeLinear(gq, ps, pz)
      pf = AveragePool<kernel_shape = [2, 2], strides = [2, 2]>(bd)
      pq = QuantizeLinear(pf, ps, pz)
      ap = DequantizeLinear(pq, ps, pz)
      cf = Concat<axis = 1>(ad, bd)
      cq = QuantizeLinear(cf, as, az)
      c = DequantizeLinear(cq, as, az)
    }
    """

  /// Add, Mul, GlobalAveragePool, AveragePool and Concat of differing parameters under
  /// `--target onnx`: ai.onnx integer ops only; Add, Mul and GlobalAveragePool equal the
  /// executor's fixed-point QLinearAdd/QLinearMul/QLinearGlobalAveragePool bit for bit
  /// (AveragePool and QLinearConcat have no fixed-point mode in the executor: compared within
  /// 1 LSB); against the fake-quant graph at most 1 LSB, counted; onnxruntime equals the executor.
  func testAddMulPoolsAndConcatUnderTheOnnxTarget() throws {
    let qdq = try RewriteTestSupport.model(Self.elementwiseText)
    for requantization in [ExecutionOptions.Requantization.float, .fixedPoint] {
      var options = LoweringOptions()
      options.target = .onnx
      options.requantization = requantization
      let lowered = try Self.lowered(qdq, options)
      let report = try IntegerLowering.lower(try RewriteTestSupport.copy(qdq), options: options)
      XCTAssertEqual(report.islands, [])
      XCTAssertFalse(lowered.graph.allNodes.contains { !$0.isStandard })
      try LoweringTests.assertOrtEqualsExecutor(lowered, test: self)
      let proof = try Verifier.verify(
        qdq: qdq, integer: lowered, float: nil,
        samples: ArrayCalibrationSource(QDQInsertionTests.samples(qdq, count: 4)))
      for output in proof.outputs {
        print(
          "onnx target (\(requantization.rawValue)) \(output.name) vs fake-quant: \(output.differing)/\(output.elements) differ, max \(output.maxLSB) LSB"
        )
        XCTAssertLessThanOrEqual(output.maxLSB.rounded(), 1, "\(output.name) (LSB measured on dequantized floats)")
      }
    }
    try Self.prove(qdq, "add/mul/pools/concat", approximate: ["pq", "cq", "ap", "c"])
  }

  // MARK: Whole models

  /// tiny_cnn and the digits CNN, quantized by insert (7-bit weights: see LoweringTests).
  func testRealModelsInFixedPointEqualTheExecutorAndOnnxRuntime() throws {
    try TestSupport.requirePython()
    var options = QuantizationOptions()
    options.reduceRange = true
    let tiny = try ModelLoader.load(path: TestSupport.fixtures + "/tiny_cnn.onnx")
    _ = try QDQInsertionTests.insert(tiny, options)
    let digits = try ModelLoader.load(path: AccuracyTests.modelPath)
    let calibration = try AccuracyTests.calibrationSamples(digits)
    _ = try QDQInsertion.insert(digits, options: options, calibration: { ArrayCalibrationSource(calibration) })
    for (name, qdq, islands) in [("tiny_cnn", tiny, ["Softmax"]), ("digits", digits, [])] {
      try Self.prove(qdq, name, islands: islands, samples: 4, bound: nil)
      let fixed = try Self.lowered(qdq, Self.onnxFixedPoint)
      try LoweringTests.assertOrtEqualsExecutor(fixed, test: self)
    }
  }

  /// The digits CNN lowered with `--target onnx --requant fixed-point --int-io` has no float
  /// tensor at all: every value's type after onnx shape inference (inputs, outputs,
  /// initializers, intermediates) is checked by Tests/interop/float_tensors.py.
  func testDigitsWithIntegerIOHasNoFloatTensor() throws {
    try TestSupport.requirePython()
    let digits = try ModelLoader.load(path: AccuracyTests.modelPath)
    let calibration = try AccuracyTests.calibrationSamples(digits)
    _ = try QDQInsertion.insert(
      digits, options: QuantizationOptions(), calibration: { ArrayCalibrationSource(calibration) })
    let folder = try TestSupport.temporaryDirectory(self)
    for integerIO in [true, false] {
      let fixed = try Self.lowered(digits, Self.onnxFixedPoint, integerIO: integerIO)
      let path = folder + "/digits_\(integerIO).onnx"
      try ModelSaver.save(fixed, to: path)
      let result = try TestSupport.run(
        TestSupport.python, [TestSupport.root + "/Tests/interop/float_tensors.py", path])
      XCTAssertEqual(result.status, 0, result.stderr)
      let report = try XCTUnwrap(
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
      let floats = report["float_tensors"] as? [String] ?? ["?"]
      let produced = report["float_node_outputs"] as? [String: String] ?? [:]
      let typed = report["typed_values"] as? Int ?? 0
      print(
        "digits --target onnx --requant fixed-point --int-io=\(integerIO): \(typed) typed values, float: \(floats)")
      XCTAssertGreaterThan(typed, 50, "shape inference typed the intermediates")
      XCTAssertEqual(report["untyped"] as? [String], [], "every intermediate has a type")
      if integerIO {
        XCTAssertEqual(floats, [], "nothing float with --int-io")
      } else {
        // Without --int-io only the boundary is float: the input, the QuantizeLinear/
        // DequantizeLinear scales, and the output the last DequantizeLinear produces.
        XCTAssertEqual(produced, ["logits": "DequantizeLinear"])
        XCTAssertTrue(floats.contains("input"), "\(floats)")
        XCTAssertEqual(floats.count, 4, "input, logits and the two boundary scales: \(floats)")
      }
    }
  }
}
