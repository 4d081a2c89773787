import Foundation
import XCTest

@testable import ONNXQAT

/// `verify` on graphs lowered with `--int-io`: the float samples are quantized and the integer
/// outputs dequantized through the `onnx-qat.io.NAME` metadata, so the report equals the one of
/// the same lowering with float inputs and outputs (the boundary QuantizeLinear/DequantizeLinear
/// compute exactly what the metadata says).
final class VerifyIntegerIOTests: XCTestCase {
  func testIntegerIOGraphVerifiesLikeItsFloatIOTwin() throws {
    try TestSupport.requirePython()
    let qdq = try ModelLoader.load(path: TestSupport.fixtures + "/tiny_cnn.onnx")
    var quantization = QuantizationOptions()
    quantization.reduceRange = true
    _ = try QDQInsertionTests.insert(qdq, quantization)
    for (target, requantization) in [
      (LoweringOptions.Target.ort, ExecutionOptions.Requantization.float), (.onnx, .fixedPoint),
    ] {
      var options = LoweringOptions()
      options.target = target
      options.requantization = requantization
      let floatIO = try FixedPointLoweringTests.lowered(qdq, options)
      let integerIO = try FixedPointLoweringTests.lowered(qdq, options, integerIO: true)
      XCTAssertEqual(integerIO.graph.inputs.first?.type?.tensorType?.elementType, .uint8)
      let samples = QDQInsertionTests.samples(qdq, count: 3)
      let a = try Verifier.verify(qdq: qdq, integer: floatIO, float: nil, samples: ArrayCalibrationSource(samples))
      let b = try Verifier.verify(qdq: qdq, integer: integerIO, float: nil, samples: ArrayCalibrationSource(samples))
      XCTAssertEqual(b.samples, 3)
      XCTAssertGreaterThan(b.outputs.first?.elements ?? 0, 0)
      XCTAssertEqual(a.outputs.map(\.differing), b.outputs.map(\.differing), "\(target)")
      XCTAssertEqual(a.outputs.map(\.histogram), b.outputs.map(\.histogram), "\(target)")
      XCTAssertEqual(a.outputs.map(\.lsb), b.outputs.map(\.lsb), "the LSB comes from the metadata")
      print(
        "verify --int-io (\(target.rawValue), \(requantization.rawValue)): "
          + b.outputs.map { "\($0.name) \($0.differing)/\($0.elements) differ, max \($0.maxLSB) LSB" }.joined())
    }
  }

  func testMalformedIntegerIOMetadataIsNamed() throws {
    let model = Model(graph: Graph(name: "g"), opsetImports: [OpsetImport(domain: "", version: 13)])
    model.metadataProps = [
      StringPair(key: "onnx-qat.io.x", value: #"{"type": "float", "scale": 0.1, "zero_point": 0}"#)
    ]
    XCTAssertThrowsError(try IntegerIOParameters(model)) {
      XCTAssertTrue("\($0)".contains("metadata 'onnx-qat.io.x'"), "\($0)")
    }
    model.metadataProps = [
      StringPair(key: "onnx-qat.io.x", value: #"{"type": "uint8", "scale": 0.5, "zero_point": 3}"#)
    ]
    let parameters = try IntegerIOParameters(model)
    let quantized = try parameters.quantize([
      "x": HostTensor(.float, shape: [4], values: [Float]([0.25, 0.75, -10, 200]))
    ])
    XCTAssertEqual(quantized["x"].flatMap { QuantizedValues.int32s($0) }, [3, 5, 0, 255], "half to even, saturated")
    let back = parameters.dequantize(["x": QuantizedValues.tensor([3, 5, 255], type: .uint8, shape: [3])])
    XCTAssertEqual(back["x"]?.values(Float.self), [0, 1, 126])
  }

  func testVerifyCommandOnAnIntegerIOModel() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let float = TestSupport.fixtures + "/tiny_cnn.onnx"
    let insert = try TestSupport.cli("insert", float, "-o", folder + "/q.onnx", "--calib", "synthetic:2")
    XCTAssertEqual(insert.status, 0, insert.stderr)
    let lower = try TestSupport.cli(
      "lower", folder + "/q.onnx", "-o", folder + "/i.onnx", "--int-io", "--target", "onnx", "--requant", "fixed-point")
    XCTAssertEqual(lower.status, 0, lower.stderr)
    let verify = try TestSupport.cli(
      "verify", "--qdq", folder + "/q.onnx", "--int", folder + "/i.onnx", "--float", float, "--calib", "synthetic:2",
      "--json")
    XCTAssertEqual(verify.status, 0, verify.stderr)
    let report = try JSONDecoder().decode(VerifyReport.self, from: Data(verify.stdout.utf8))
    XCTAssertEqual(report.samples, 2)
    XCTAssertNotNil(report.outputs.first?.lsb)
    XCTAssertNotNil(report.outputs.first?.integerVsFloat)
  }
}
