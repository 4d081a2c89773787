import Foundation
import XCTest

@testable import ONNXQAT

/// Fake-quant fusion in the graph plan: a QuantizeLinear whose only reader is a DequantizeLinear
/// runs as one step (FakeQuantPair, FusedFakeQuantStep, FakeQuantization), alone or at the end of
/// a Conv epilogue (ConvEpilogueChain, FusedConvStep). QuantizeLinear -> DequantizeLinear is
/// exact integer and float32 arithmetic, so the fused run must equal the unfused one bit for bit
/// (Float bit patterns; no tolerance), on inputs with NaN, +-inf, rounding ties (k + 0.5) * s and
/// values beyond both ends of the integer range, at 1 and 2 threads. The unfused reference is a
/// plan made with `GraphPlan.fusesEpilogues` and `cachesPackedWeights` off.
final class FusedFakeQuantTests: XCTestCase {
  override func tearDown() {
    GraphPlan.fusesEpilogues = true
    GraphPlan.cachesPackedWeights = true
    super.tearDown()
  }

  private func assertFusedEqualsUnfused(
    _ text: String, ops: [String], inputs: [String: HostTensor]? = nil, file: StaticString = #filePath,
    line: UInt = #line
  ) throws {
    try FusedPlanTestSupport.assertFusedEqualsUnfused(text, ops: ops, inputs: inputs, file: file, line: line)
  }

  /// `count` float32 values for a fake-quant of scale `scale` into `range` with zero point `zero`:
  /// NaN, +-inf, +-0, the exact ties (k + 0.5) * scale and their neighbours across and beyond the
  /// whole range, then random values over twice the range.
  private func hardValues(scale: Float, range: ClosedRange<Int32>, zero: Int32, count: Int = 4096) -> HostTensor {
    var values: [Float] = [.nan, -.nan, .infinity, -.infinity, 0, -0.0, .greatestFiniteMagnitude, -1e30]
    let low = Int(range.lowerBound - zero) - 3
    let high = Int(range.upperBound - zero) + 3
    var k = low
    while values.count < count / 2 && k <= high {
      let tie = (Float(k) + 0.5) * scale
      values += [tie, tie.nextUp, tie.nextDown, Float(k) * scale]
      k += max(1, (high - low) / 400)
    }
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    let span = Float(high - low) * scale
    while values.count < count {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let unit = Float(state >> 40) / Float(1 << 24)
      values.append(Float(low) * scale - span / 2 + 2 * span * unit)
    }
    return HostTensor(.float, shape: [1, count], values: values)
  }

  /// A QuantizeLinear -> DequantizeLinear pair of `type` on input x at `opset`.
  private func pairModel(type: String, scale: Float, zero: Int32, opset: Int = 13, count: Int = 4096) -> String {
    """
    <ir_version: 8, opset_import: ["" : \(opset)]>
    g (float[1,\(count)] x) => (float[1,\(count)] y) <float s = {\(scale)}, \(type) zp = {\(zero)}> {
      r = Relu (x)
      t = Add (x, r)
      q = QuantizeLinear (t, s, zp)
      y = DequantizeLinear (q, s, zp)
    }
    """
  }

  func testPairsOfEveryIntegerTypeAndZeroPointEqualTheUnfusedKernels() throws {
    let cases: [(type: String, range: ClosedRange<Int32>, zeros: [Int32], opset: Int)] = [
      ("uint8", 0...255, [0, 128, 255], 13), ("int8", -128...127, [-128, 0, 127], 13),
      ("uint16", 0...65535, [0, 65535], 21), ("int16", -32768...32767, [-32768, 3], 21),
    ]
    for (type, range, zeros, opset) in cases {
      for zero in zeros {
        for scale: Float in [0.0375, 3] {
          let x = hardValues(scale: scale, range: range, zero: zero)
          // Relu then Add doubles positive inputs: halve them so that ties stay ties.
          let p = x.pointer(Float.self)
          for i in 0..<x.count where p[i] > 0 { p[i] /= 2 }
          try assertFusedEqualsUnfused(
            pairModel(type: type, scale: scale, zero: zero, opset: opset), ops: ["Relu", "Add", "DequantizeLinear"],
            inputs: ["x": x])
        }
      }
    }
  }

  /// The fused pass against the kernels on the raw hard values (no graph in between), uint8 and
  /// int8 at zero points at both ends.
  func testFakeQuantizationEqualsTheKernelsOnHardValues() throws {
    for (type, range, zero) in [("uint8", 0...255, 255), ("int8", -128...127, -128)]
      as [(String, ClosedRange<Int32>, Int32)]
    {
      let text = """
        <ir_version: 8, opset_import: ["" : 13]>
        g (float[1,4096] x) => (float[1,4096] y) <float s = {0.0375}, \(type) zp = {\(zero)}> {
          q = QuantizeLinear (x, s, zp)
          y = DequantizeLinear (q, s, zp)
        }
        """
      try assertFusedEqualsUnfused(
        text, ops: ["DequantizeLinear"], inputs: ["x": hardValues(scale: 0.0375, range: range, zero: zero)])
    }
  }

  /// Different scales and zero points on the two sides, and omitted zero points.
  func testPairsWithDifferentOrOmittedParameters() throws {
    try assertFusedEqualsUnfused(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1,4096] x) => (float[1,4096] y, float[1,4096] z)
        <float s = {0.05}, float t = {0.07}, int8 a = {-3}, int8 b = {9}> {
        q = QuantizeLinear (x, s, a)
        y = DequantizeLinear (q, t, b)
        p = QuantizeLinear (x, s)
        z = DequantizeLinear (p, t)
      }
      """, ops: ["DequantizeLinear", "DequantizeLinear"],
      inputs: ["x": hardValues(scale: 0.05, range: -128...127, zero: -3)])
  }

  private func convModel(tail: String, group: Int = 1, channels: Int = 16) -> String {
    var numbers = BatchNormTestSupport.Numbers(seed: 5)
    let all = [
      numbers.initializer("w", [32, channels / group, 3, 3]), numbers.initializer("cb", [32]),
      numbers.batchNorm("bn", channels: 32), "float s = {0.01}", "uint8 zp = {0}", "int8 zs = {-128}",
      "float lo = {0}", "float hi = {6}",
    ]
    return """
      <ir_version: 8, opset_import: ["" : 17]>
      g (float[1,\(channels),48,48] x) => (float[1,32,48,48] y) <\(all.joined(separator: ", "))> {
        c = Conv <pads = [1, 1, 1, 1], group = \(group)> (x, w, cb)
      \(tail)
      }
      """
  }

  private let batchNorm = "  n = BatchNormalization <epsilon = 0.001> (c, bn_scale, bn_b, bn_mean, bn_var)"

  /// Random Conv inputs with NaN and infinities, scaled so that the fake quant saturates at both
  /// ends.
  private func convInputs(channels: Int = 16) -> [String: HostTensor] {
    var values = (0..<(channels * 48 * 48)).map { Float(($0 * 7919) % 1000) / 250 - 2 }
    values[100] = .nan
    values[2000] = .infinity
    values[3000] = -.infinity
    return ["x": HostTensor(.float, shape: [1, channels, 48, 48], values: values)]
  }

  func testConvBatchNormReluFakeQuantIsOneStep() throws {
    try assertFusedEqualsUnfused(
      convModel(
        tail: batchNorm + "\n  a = Relu (n)\n  q = QuantizeLinear (a, s, zp)\n  y = DequantizeLinear (q, s, zp)"),
      ops: ["DequantizeLinear"], inputs: convInputs())
  }

  func testConvFakeQuantWithoutActivationIsOneStep() throws {
    try assertFusedEqualsUnfused(
      convModel(tail: "  q = QuantizeLinear (c, s, zs)\n  y = DequantizeLinear (q, s, zs)"),
      ops: ["DequantizeLinear"], inputs: convInputs())
  }

  func testDepthwiseConvBatchNormClipFakeQuantIsOneStep() throws {
    try assertFusedEqualsUnfused(
      convModel(
        tail: batchNorm
          + "\n  a = Clip (n, lo, hi)\n  q = QuantizeLinear (a, s, zs)\n  y = DequantizeLinear (q, s, zs)",
        group: 32, channels: 32), ops: ["DequantizeLinear"], inputs: convInputs(channels: 32))
  }

  /// The pair must not fuse when the integer tensor is needed elsewhere, the scale is per-axis or
  /// not constant; the Conv chain then ends before the QuantizeLinear.
  func testPairsThatMustNotFuseStillRun() throws {
    // Skip 2: the QuantizeLinear's output is also a graph output.
    try assertFusedEqualsUnfused(
      convModel(tail: "  a = Relu (c)\n  q = QuantizeLinear (a, s, zp)\n  y = DequantizeLinear (q, s, zp)")
        .replacingOccurrences(of: "=> (float[1,32,48,48] y)", with: "=> (float[1,32,48,48] y, uint8[1,32,48,48] q)"),
      ops: ["Relu", "QuantizeLinear", "DequantizeLinear"], inputs: convInputs())
    // Skip 2: two readers.
    try assertFusedEqualsUnfused(
      convModel(
        tail: "  q = QuantizeLinear (c, s, zp)\n  d = DequantizeLinear (q, s, zp)\n  e = DequantizeLinear (q, s, zp)\n"
          + "  y = Add (d, e)"), ops: ["Conv", "QuantizeLinear", "DequantizeLinear", "DequantizeLinear", "Add"],
      inputs: convInputs())
    // Skip 4: a per-axis scale.
    try assertFusedEqualsUnfused(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[2,512] x) => (float[2,512] y) <float[2] s = {0.05, 0.5}, int8[2] zp = {1, -1}> {
        q = QuantizeLinear <axis = 0> (x, s, zp)
        y = DequantizeLinear <axis = 0> (q, s, zp)
      }
      """, ops: ["QuantizeLinear", "DequantizeLinear"])
    // Skip 3: a scale computed from a graph input.
    try assertFusedEqualsUnfused(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1,512] x, float[1] u) => (float[1,512] y) <int8 zp = {2}> {
        s = Abs (u)
        q = QuantizeLinear (x, s, zp)
        y = DequantizeLinear (q, s, zp)
      }
      """, ops: ["Abs", "QuantizeLinear", "DequantizeLinear"])
  }

  /// Scales from Constant nodes are constant (the constant cache's): the pair is planned as one
  /// step; a per-axis one only the run can see, which then runs the two kernels.
  func testScalesFromConstantNodesFuseOrFallBackAtRunTime() throws {
    for (scale, zero, axis) in [("{0.125}", "{-7}", ""), ("[2] {0.125, 0.25}", "[2] {-7, 5}", "<axis = 0> ")] {
      try assertFusedEqualsUnfused(
        """
        <ir_version: 8, opset_import: ["" : 13]>
        g (float[2,512] x) => (float[2,512] y) {
          s = Constant <value = float\(scale)> ()
          zp = Constant <value = int8\(zero)> ()
          q = QuantizeLinear \(axis)(x, s, zp)
          y = DequantizeLinear \(axis)(q, s, zp)
        }
        """, ops: ["Constant", "Constant", "DequantizeLinear"])
    }
  }

  /// A weight's pair is a constant node (skip 5): the constant cache computes it once.
  func testWeightPairIsLeftToTheConstantCache() throws {
    try assertFusedEqualsUnfused(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1,512] x) => (float[1,512] y) <float[1,512] w = {\(Array(repeating: "0.3", count: 512).joined(separator: ", "))}, float s = {0.01}, int8 zp = {0}> {
        q = QuantizeLinear (w, s, zp)
        d = DequantizeLinear (q, s, zp)
        y = Mul (x, d)
      }
      """, ops: ["QuantizeLinear", "DequantizeLinear", "Mul"])
  }

  /// An observer (calibration, verify) sees every intermediate, the integer tensor too, with the
  /// unfused values.
  func testObserverSeesTheIntegerTensor() throws {
    let text = convModel(
      tail: batchNorm + "\n  a = Relu (n)\n  q = QuantizeLinear (a, s, zp)\n  y = DequantizeLinear (q, s, zp)"
    )
    .replacingOccurrences(of: "=> (float[1,32,48,48] y)", with: "=> (float[1,32,48,48] y, float[1,36864] z)")
    .replacingOccurrences(
      of: "\n}",
      with: "\n  f = Flatten <axis = 0> (x)\n  p = QuantizeLinear (f, s, zs)\n  z = DequantizeLinear (p, s, zs)\n}")
    let model = try RewriteTestSupport.model(text)
    for fused in [true, false] {
      var seen: [String: [Double]] = [:]
      _ = try FusedPlanTestSupport.run(model, inputs: convInputs(), threads: 2, fused: fused) { value, tensor in
        seen[value.name] = tensor.doubles().map { $0.isNaN ? -1 : $0 }
      }
      XCTAssertEqual(Set(seen.keys), ["x", "c", "n", "a", "q", "y", "f", "p", "z"], "fused: \(fused)")
      XCTAssertEqual(seen["q"]?.count, 32 * 48 * 48)
      XCTAssertTrue(seen["q"]?.contains(255) ?? false, "the fake quant saturates")
      XCTAssertEqual(seen["p"]?.count, 16 * 48 * 48)
    }
  }

  /// `insert` of a fixture model writes the same bytes and reports the same error whether the
  /// evaluation of the fake-quant model fuses its pairs or not.
  func testInsertGivesTheSameModelAndErrorReport() throws {
    let path = TestSupport.root + "/Fixtures/digits/digits_cnn.onnx"
    var results: [(bytes: Data, error: [ErrorMetrics])] = []
    for fused in [false, true] {
      GraphPlan.fusesEpilogues = fused
      defer { GraphPlan.fusesEpilogues = true }
      let model = try ModelLoader.load(path: path)
      let report = try QDQInsertion.insert(
        model, options: QuantizationOptions(),
        calibration: { try FolderCalibrationSource(folder: TestSupport.root + "/Fixtures/digits/calib", model: model) })
      XCTAssertFalse(report.error.isEmpty)
      results.append((try ModelSaver.serialize(model), report.error))
    }
    XCTAssertEqual(results[0].bytes, results[1].bytes)
    XCTAssertEqual(results[0].error, results[1].error)
  }
}
