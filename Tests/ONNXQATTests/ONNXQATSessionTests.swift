import Foundation
import XCTest

import ONNXQAT

/// The Swift API (`ONNXQATSession`, `VerbOptions`) through its public surface only: the verbs
/// give what the command line gives (byte-identical models for the same options), the three
/// calibration inputs (spec, arrays, closure) agree, options by name fail naming the key,
/// progress is reported stage by stage and sample by sample, and cancellation (a flag, a
/// progress callback, Swift task cancellation) throws `ONNXQATError.cancelled` naming the stage.
final class ONNXQATSessionTests: XCTestCase {
  private let tinyCNN = TestSupport.fixtures + "/tiny_cnn.onnx"

  private func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

  /// The synthetic samples `synthetic:N` draws, held in memory.
  private func syntheticSamples(_ model: Model, count: Int) throws -> [[String: HostTensor]] {
    var source = SyntheticCalibrationSource(model: model, count: count)
    var samples: [[String: HostTensor]] = []
    while let sample = try source.nextSample() { samples.append(sample) }
    return samples
  }

  func testVerbsWriteWhatTheCommandLineWrites() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let insert = try TestSupport.cli(
      "insert", tinyCNN, "-o", folder + "/cli_qdq.onnx", "--calib", "synthetic:3", "--method", "percentile",
      "--exclude", "conv3", "--weights-form", "dq")
    XCTAssertEqual(insert.status, 0, insert.stderr)
    let lower = try TestSupport.cli("lower", folder + "/cli_qdq.onnx", "-o", folder + "/cli_int.onnx", "--int-io")
    XCTAssertEqual(lower.status, 0, lower.stderr)

    let session = ONNXQATSession()
    let model = try session.load(path: tinyCNN)
    let report = try session.insert(
      model, options: ["calib": "synthetic:3", "method": "percentile", "exclude": ["conv3"], "weights-form": "dq"])
    XCTAssertEqual(report.samples, 3)
    XCTAssertTrue(report.synthetic)
    XCTAssertEqual(try session.serialize(model), try bytes(folder + "/cli_qdq.onnx"), "insert: same model as the CLI")
    let lowering = try session.lower(model, options: ["int-io": true])
    XCTAssertFalse(lowering.lowered.isEmpty)
    try session.save(model, to: folder + "/api_int.onnx")
    XCTAssertEqual(try bytes(folder + "/api_int.onnx"), try bytes(folder + "/cli_int.onnx"), "lower: same as the CLI")

    let qdq = try session.load(bytes: try bytes(folder + "/cli_qdq.onnx"), name: "qdq")
    let integer = try session.load(bytes: try bytes(folder + "/cli_qdq.onnx"), name: "integer")
    _ = try session.lower(integer)
    let verify = try session.verify(
      qdq: qdq, integer: integer, float: try session.load(path: tinyCNN), options: ["calib": "synthetic:2"])
    XCTAssertEqual(verify.samples, 2)
    XCTAssertLessThanOrEqual(
      verify.firstDeparture?.maxDifference ?? 0, 1, "integer and fake-quant: at most 1 LSB apart")
  }

  func testCalibrationFromSpecArraysAndClosureAgree() throws {
    let session = ONNXQATSession()
    var models: [Data] = []
    let samples = try syntheticSamples(try session.load(path: tinyCNN), count: 3)
    let inputs: [CalibrationInput] = [
      .spec("synthetic:3"), .samples(samples), .generator(count: 3, next: { samples[$0] }),
    ]
    for input in inputs {
      let model = try session.load(path: tinyCNN)
      let report = try session.insert(model, calibration: input)
      XCTAssertEqual(report.samples, 3)
      XCTAssertEqual(report.synthetic, input.isSynthetic)
      models.append(try session.serialize(model))
    }
    XCTAssertEqual(models[1], models[0], "arrays in memory give what synthetic:3 gives")
    XCTAssertEqual(models[2], models[0], "a closure gives what synthetic:3 gives")
  }

  func testOptionsByNameNameTheKeyAndWhatWasExpected() throws {
    let session = ONNXQATSession()
    let cases: [(VerbOptions, String)] = [
      (["calib": "synthetic:2", "methd": "entropy"], "insert: unknown option 'methd'"),
      (
        ["calib": "synthetic:2", "method": "magic"], "'method' must be minmax, percentile, entropy or mse, not 'magic'"
      ),
      (["calib": "synthetic:2", "calib-samples": 0], "'calib-samples' must be a positive number, not '0'"),
      (["calib": "synthetic:2", "keep-io-float": "yes"], "'keep-io-float' must be true or false, not 'yes'"),
      (["calib": "synthetic:2", "exclude": [1]], "'exclude' must be an array of strings"),
      (["calib": "synthetic:2", "percentile": 101], "'percentile' must be a number in (0, 100], not '101'"),
      ([:], "insert: no calibration samples: give 'calib'"),
    ]
    for (options, message) in cases {
      let model = try session.load(path: tinyCNN)
      XCTAssertThrowsError(try session.insert(model, options: options)) { error in
        XCTAssertTrue("\(error)".contains(message), "\(options): \(error)")
        XCTAssertEqual((error as? ONNXQATError)?.isBadInput, true)
      }
    }
    XCTAssertThrowsError(try VerbOptions(["target": "tpu"]).loweringOptions()) {
      XCTAssertEqual("\($0)", "'target' must be ort or onnx, not 'tpu'")
    }
    XCTAssertThrowsError(try VerbOptions(json: "[1]")) { XCTAssertTrue("\($0)".contains("not a JSON object")) }
    XCTAssertThrowsError(try VerbOptions(["external-data": 64, "inline-external-data": true]).externalDataPolicy())
    let parsed = try VerbOptions(json: #"{"calib-samples": "5", "exclude": "Softmax", "per-tensor": true}"#)
    let settings = try parsed.insertSettings()
    XCTAssertEqual(settings.quantization.calibration.maxSamples, 5)
    XCTAssertEqual(settings.quantization.exclude, ["Softmax"])
    XCTAssertFalse(settings.quantization.perChannel)
    XCTAssertEqual(try VerbOptions(["external-data": true]).externalDataPolicy(), .externalize(threshold: 1024))
  }

  func testProgressIsReportedPerStageAndPerSample() throws {
    let events = EventLog()
    let session = ONNXQATSession(progress: { events.append($0) })
    let model = try session.load(path: tinyCNN)
    _ = try session.fold(model)
    _ = try session.insert(model, options: ["calib": "synthetic:4"])
    _ = try session.lower(model)
    let calibrate = events.all.filter { $0.stage == .calibrate }
    XCTAssertEqual(calibrate.map(\.done), [1, 2, 3, 4])
    XCTAssertEqual(Set(calibrate.map(\.total)), [4])
    var stages: [VerbProgress.Stage] = []
    for event in events.all where stages.last != event.stage { stages.append(event.stage) }
    XCTAssertEqual(stages, [.load, .fold, .insert, .calibrate, .insert, .lower])
  }

  func testCancellationThrowsNamingTheStage() async throws {
    let flag = CancellationFlag()
    flag.cancel()
    XCTAssertThrowsError(try ONNXQATSession(cancellation: flag).load(path: tinyCNN)) {
      XCTAssertEqual($0 as? ONNXQATError, .cancelled(stage: "load"))
    }

    let midway = CancellationFlag()
    let seen = EventLog()
    let session = ONNXQATSession(
      progress: { event in
        seen.append(event)
        if event.stage == .calibrate, event.done == 2 { midway.cancel() }
      }, cancellation: midway)
    let model = try session.load(path: tinyCNN)
    XCTAssertThrowsError(try session.insert(model, options: ["calib": "synthetic:6"])) {
      XCTAssertEqual($0 as? ONNXQATError, .cancelled(stage: "calibrate"))
    }
    XCTAssertEqual(seen.all.filter { $0.stage == .calibrate }.map(\.done), [1, 2], "no sample after the cancel")

    let path = tinyCNN
    let task = Task { () throws -> Int in
      let session = ONNXQATSession()
      let model = try session.load(path: path)
      withUnsafeCurrentTask { $0?.cancel() }
      return try session.insert(model, options: ["calib": "synthetic:2"]).samples
    }
    do {
      _ = try await task.value
      XCTFail("a cancelled task must not finish the insert")
    } catch {
      XCTAssertEqual(error as? ONNXQATError, .cancelled(stage: "insert"))
    }
  }
}

/// Progress events collected from any thread.
private final class EventLog: @unchecked Sendable {
  private let lock = NSLock()
  private var events: [VerbProgress] = []

  func append(_ event: VerbProgress) { lock.withLock { events.append(event) } }
  var all: [VerbProgress] { lock.withLock { events } }
}
