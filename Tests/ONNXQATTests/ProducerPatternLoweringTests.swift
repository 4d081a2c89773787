import Foundation
import XCTest

@testable import ONNXQAT

/// `lower` on fake-quant graphs in the export patterns of other producers
/// (Tests/interop/producer_qdq_models.py): NVIDIA modelopt / NNCF (int8 symmetric activations,
/// per-channel weights behind Q->DQ of float initializers, float biases, Gemm) and PyTorch QAT
/// with fbgemm (uint8 asymmetric activations, int32 biases behind DequantizeLinear, MatMul + Add).
/// Both targets: no float island, onnx.checker full_check, onnxruntime equal to our executor bit
/// for bit, and the integer graph against the fake-quant graph within 1 LSB per output with float
/// requantization (fixed-point: 1 LSB per op, propagated; counted and printed); the fixed-point
/// graph also equals the executor's fixed-point QLinear ops on every integer tensor.
final class ProducerPatternLoweringTests: XCTestCase {
  func testModeloptAndPyTorchPatternsLowerForBothTargets() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let generate = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/producer_qdq_models.py", folder])
    XCTAssertEqual(generate.status, 0, generate.stderr)
    for stem in ["modelopt_int8", "pytorch_uint8"] {
      let qdq = try ModelLoader.load(path: "\(folder)/\(stem).onnx")
      for (target, requantization) in [
        (LoweringOptions.Target.ort, ExecutionOptions.Requantization.float), (.onnx, .fixedPoint),
      ] {
        var options = LoweringOptions()
        options.target = target
        options.requantization = requantization
        let lowered = try RewriteTestSupport.copy(qdq)
        let report = try IntegerLowering.lower(lowered, options: options)
        let label = "\(stem) (\(target.rawValue), \(requantization.rawValue))"
        XCTAssertEqual(report.islands, [], label)
        XCTAssertNil(report.opsAfter["Conv"], label)
        XCTAssertFalse(report.notes.contains { $0.contains("re-quantized") }, "int32 biases at s_x * s_w: \(label)")
        try LoweringTests.assertOrtEqualsExecutor(lowered, test: self)
        let proof = try Verifier.verify(
          qdq: qdq, integer: lowered, float: nil,
          samples: ArrayCalibrationSource(QDQInsertionTests.samples(qdq, count: 8)))
        // Float requantization: within 1 LSB of the fake-quant graph (float summation order at
        // rounding ties). Fixed-point: each requantizing op may add 1 LSB, which propagates, so
        // the bound is the number of lowered ops.
        let bound = requantization == .float ? 1 : Double(report.lowered.map(\.nodes.count).reduce(0, +))
        for output in proof.outputs {
          print("\(label) vs fake-quant: \(output.differing)/\(output.elements) differ, max \(output.maxLSB) LSB")
          XCTAssertLessThanOrEqual(output.maxLSB.rounded(), bound, label)
        }
      }
      try FixedPointLoweringTests.prove(qdq, stem, bound: nil)
    }
  }
}
