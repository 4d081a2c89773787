import Foundation
import XCTest

@testable import ONNXQAT

/// The error `insert` reports is measured against the float outputs recorded during calibration
/// (`ReferenceOutputSpool`) on a copy whose weight Q/DQ subgraphs are folded; it must equal, bit
/// for bit, a measurement that runs the float model and the unfolded fake-quant model again on
/// the same samples with the same executor (`ErrorMetrics` compares its raw sums exactly).
final class InsertErrorMeasurementTests: XCTestCase {
  /// Inserts Q/DQ into one copy of `text` and re-measures with a second, folded float copy.
  private func assertReportedErrorEqualsARerun(
    _ model: () throws -> Model, options: QuantizationOptions, samples: [[String: HostTensor]],
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let quantized = try model()
    let report = try QDQInsertion.insert(quantized, options: options, calibration: { ArrayCalibrationSource(samples) })
    let reference = try model()
    _ = try Folding.fold(reference, log: RewriteLog())
    let rerun = try QDQInsertion.measureError(
      reference: reference, quantized: quantized, calibration: { ArrayCalibrationSource(samples) }, options: options)
    XCTAssertFalse(rerun.isEmpty, file: file, line: line)
    XCTAssertEqual(report.error, rerun, file: file, line: line)
    // The folded measurement (taken by insert when it pays) against a spool filled by calibration.
    let spool = try ReferenceOutputSpool(outputNames: reference.graph.outputs.map(\.name))
    var source: CalibrationSource = ArrayCalibrationSource(samples)
    _ = try Calibrator(model: reference, tensors: [], options: options.calibration).run(&source, outputs: spool.record)
    let folded = try QDQInsertion.measureError(
      reference: spool, quantized: try QDQInsertion.weightsFolded(quantized),
      calibration: { ArrayCalibrationSource(samples) }, options: options)
    XCTAssertEqual(folded, rerun, file: file, line: line)
    let expectedSamples = min(samples.count, options.calibration.maxSamples ?? samples.count)
    XCTAssertTrue(rerun.allSatisfy { $0.samples == expectedSamples }, file: file, line: line)
    XCTAssertTrue(
      rerun.contains { $0.snrDecibels.isFinite }, "quantization changed the outputs", file: file, line: line)
  }

  private func convModel() throws -> Model { try RewriteTestSupport.model(QDQInsertionTests.convReluReshape) }

  func testQDQWeightsErrorEqualsARerunOfBothModels() throws {
    let samples = QDQInsertionTests.samples(try convModel(), count: 5)
    try assertReportedErrorEqualsARerun(convModel, options: QuantizationOptions(), samples: samples)
  }

  func testDQWeightsAndASampleLimitGiveTheSameErrorAsARerun() throws {
    var options = QuantizationOptions()
    options.weightsForm = .dq
    options.calibration.maxSamples = 3
    let samples = QDQInsertionTests.samples(try convModel(), count: 6)
    try assertReportedErrorEqualsARerun(convModel, options: options, samples: samples)
  }

  func testDigitsCNNErrorEqualsARerun() throws {
    let path = TestSupport.root + "/Fixtures/digits/digits_cnn.onnx"
    let model = { try ModelLoader.load(path: path) }
    var source = try FolderCalibrationSource(folder: TestSupport.root + "/Fixtures/digits/calib", model: try model())
    var samples: [[String: HostTensor]] = []
    while samples.count < 6, let sample = try source.nextSample() { samples.append(sample) }
    try assertReportedErrorEqualsARerun(model, options: QuantizationOptions(), samples: samples)
  }

  func testWeightsAreFoldedOnlyWhenTheSamplesRecomputeEnoughElements() throws {
    let model = try convModel()
    _ = try QDQInsertionTests.insert(model)
    // Weights here: w (6 elements), m (288), b (3), each behind a Q/DQ pair or a DQ.
    XCTAssertFalse(QDQInsertion.foldingWeightsPays(model, samples: 4))
    XCTAssertTrue(QDQInsertion.foldingWeightsPays(model, samples: 100_000))
  }

  func testWeightFoldingRemovesEveryConstantQuantizer() throws {
    let model = try convModel()
    _ = try QDQInsertionTests.insert(model)
    let quantizersBefore = model.graph.nodes.filter { $0.opType == "QuantizeLinear" }
    let folded = try QDQInsertion.weightsFolded(model)
    let constantFed = folded.graph.nodes.filter { node in
      (node.opType == "QuantizeLinear" || node.opType == "DequantizeLinear")
        && node.inputs.compactMap { $0 }.allSatisfy { $0.initializer != nil }
    }
    XCTAssertEqual(constantFed.count, 0, constantFed.map(\.label).joined(separator: ", "))
    XCTAssertLessThan(folded.graph.nodes.count, model.graph.nodes.count)
    XCTAssertFalse(quantizersBefore.isEmpty)
  }

  func testSpoolReplaysOutputsInOrderAndSkipsIntegerOutputs() throws {
    let spool = try ReferenceOutputSpool(outputNames: ["y", "index", "missing"])
    let first: [String: HostTensor] = [
      "y": .floats([1.5, -2, .infinity], shape: [3]), "index": HostTensor(.int64, shape: [1], values: [Int64(4)]),
    ]
    let second: [String: HostTensor] = ["y": HostTensor(.double, shape: [2], values: [0.25, -8.0])]
    try spool.record(first)
    try spool.record(second)
    XCTAssertEqual(spool.samples, 2)
    let replayedFirst = try XCTUnwrap(try spool.next())
    XCTAssertEqual(Set(replayedFirst.keys), ["y"])
    XCTAssertEqual(replayedFirst["y"]?.doubles(), [1.5, -2, .infinity])
    let replayedSecond = try XCTUnwrap(try spool.next())
    XCTAssertEqual(replayedSecond["y"]?.doubles(), [0.25, -8])
    XCTAssertNil(try spool.next())
  }
}
