import Foundation
import XCTest

@testable import ONNXQAT

/// Two samples at once (`SampleLanes`) change only the time: calibration statistics, the float
/// outputs handed over, progress reports and the insert's model and error report are identical,
/// bit for bit, to one sample at a time.
final class SampleLanesTests: XCTestCase {
  static let text = """
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[1, 3, 12, 12] x) => (float[1, 4, 6, 6] y) {
      w = Constant<value = float[4, 3, 3, 3] {
        0.1, -0.2, 0.3, 0.05, -0.4, 0.2, 0.1, 0.0, -0.1, 0.3, 0.2, -0.3, 0.1, 0.1, -0.2, 0.4, 0.0, 0.1,
        -0.1, 0.2, 0.3, 0.1, -0.3, 0.2, 0.0, 0.1, 0.2, 0.2, -0.1, 0.0, 0.3, 0.1, -0.2, 0.1, 0.4, -0.3,
        0.1, 0.1, 0.1, -0.2, 0.2, 0.0, 0.3, -0.1, 0.2, 0.0, 0.2, -0.4, 0.1, 0.3, -0.1, 0.2, 0.1, 0.0,
        0.2, -0.2, 0.1, 0.3, 0.0, -0.1, 0.1, 0.2, -0.3, 0.1, 0.0, 0.2, 0.1, -0.1, 0.3, 0.2, 0.0, -0.2,
        0.1, 0.2, 0.0, -0.1, 0.3, 0.1, -0.2, 0.2, 0.1, 0.0, 0.1, -0.3, 0.2, 0.1, 0.0, 0.2, -0.1, 0.1,
        0.3, 0.0, -0.2, 0.1, 0.2, -0.1, 0.0, 0.1, 0.2, -0.2, 0.3, 0.1, 0.0, 0.2, -0.1, 0.1, 0.2, 0.0
      }>()
      c = Conv<pads = [1, 1, 1, 1]>(x, w)
      r = Relu(c)
      p = MaxPool<kernel_shape = [2, 2], strides = [2, 2]>(r)
      s = Sigmoid(p)
      y = Add(p, s)
    }
    """

  override func tearDown() {
    SampleLanes.policy = .always
    super.tearDown()
  }

  /// Calibrates 9 samples (an odd count: the last batch has one sample) with and without the
  /// second lane, with and without a limit, min-max and its moving average.
  func testStatisticsOutputsAndProgressAreTheSameWithTwoLanes() throws {
    let model = try RewriteTestSupport.model(Self.text)
    for (movingAverage, limit) in [(false, nil), (true, nil), (false, 5)] as [(Bool, Int?)] {
      var runs: [(CalibrationResult, [[String: HostTensor]], [Int])] = []
      let lanesBefore = SampleLanes.secondLanesMade
      for policy in [SampleLanes.Policy.never, .always] {
        SampleLanes.policy = policy
        var options = CalibrationOptions()
        options.movingAverage = movingAverage
        options.maxSamples = limit
        options.executionOptions.threads = 2
        var source: CalibrationSource = SyntheticCalibrationSource(model: model, count: 9, seed: 3)
        var outputs: [[String: HostTensor]] = []
        var progress: [Int] = []
        let result = try Calibrator(model: model, tensors: ["x", "c", "r", "p", "s", "y"], options: options).run(
          &source, progress: { progress.append($0.done) }, outputs: { outputs.append($0) })
        runs.append((result, outputs, progress))
      }
      let label = "moving average \(movingAverage), limit \(limit.map(String.init) ?? "none")"
      XCTAssertEqual(SampleLanes.secondLanesMade, lanesBefore + 1, label)
      XCTAssertEqual(runs[0].0.samples, limit ?? 9, label)
      XCTAssertTrue(runs[0].0.statistics == runs[1].0.statistics, label)
      XCTAssertEqual(runs[0].2, Array(1...(limit ?? 9)), label)
      XCTAssertEqual(runs[1].2, runs[0].2, label)
      XCTAssertEqual(runs[1].1.count, runs[0].1.count, label)
      for (one, two) in zip(runs[0].1, runs[1].1) {
        XCTAssertEqual(one["y"]?.values(Float.self), two["y"]?.values(Float.self), label)
      }
    }
  }

  /// The digits CNN: the fake-quant model and the report (error metrics included) are the same
  /// with two lanes in calibration and in the error measurement.
  func testInsertIsTheSameWithTwoLanes() throws {
    var outputs: [(Data, InsertReport)] = []
    let lanesBefore = SampleLanes.secondLanesMade
    for policy in [SampleLanes.Policy.never, .always] {
      SampleLanes.policy = policy
      let session = ONNXQATSession()
      let model = try session.load(path: TestSupport.fixtures + "/digits/digits_cnn.onnx")
      var report = try session.insert(model, options: ["calib": .string(TestSupport.fixtures + "/digits/calib")])
      report.seconds = .init()
      outputs.append((try session.serialize(model), report))
    }
    XCTAssertEqual(SampleLanes.secondLanesMade, lanesBefore + 2, "calibration and the error measurement")
    XCTAssertEqual(outputs[0].0, outputs[1].0)
    XCTAssertEqual(outputs[0].1, outputs[1].1)
    XCTAssertGreaterThan(outputs[0].1.samples, 8)
    XCTAssertFalse(outputs[0].1.error.isEmpty)
  }

  /// A fake-quant Conv whose weight the constant cache cannot keep (a limit of 0 bytes): its
  /// DequantizeLinear runs again on every run, so the Conv step packs a new weight tensor each
  /// time, in whichever lane runs it. The lane shares the first interpreter's plan, and its outputs
  /// are bit for bit those of one lane.
  func testLanesShareThePlanAndRepackExactly() throws {
    let weights = (0..<108).map { String(Float(($0 * 37) % 17 - 8) / 20) }.joined(separator: ", ")
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[1, 3, 12, 12] x) => (float[1, 4, 12, 12] y) {
        w = Constant<value = float[4, 3, 3, 3] {\(weights)}>()
        s = Constant<value = float {0.02}>()
        z = Constant<value = int8 {0}>()
        q = QuantizeLinear(w, s, z)
        d = DequantizeLinear(q, s, z)
        c = Conv<pads = [1, 1, 1, 1]>(x, d)
        y = Relu(c)
      }
      """)
    var options = ExecutionOptions()
    options.threads = 2
    options.constantCacheLimit = 0
    var runs: [[[Float]]] = []
    for policy in [SampleLanes.Policy.never, .always] {
      SampleLanes.policy = policy
      let primary = try Interpreter(model: model, options: options)
      var lanes: [Interpreter] = []
      var outputs: [[Float]] = []
      var source: CalibrationSource = SyntheticCalibrationSource(model: model, count: 24, seed: 5)
      let done = try SampleLanes(primary: primary).run(
        &source, limit: nil, prepare: { lanes.append($0) }, work: { lane, _, sample, _ in try lane.run(sample) },
        deliver: { result, _ in outputs.append(result["y"]?.values(Float.self) ?? []) })
      XCTAssertEqual(done, 24)
      XCTAssertEqual(lanes.count, policy == .always ? 1 : 0)
      for lane in lanes { XCTAssertTrue(lane.prepare() === primary.prepare(), "the lane plans nothing") }
      runs.append(outputs)
    }
    XCTAssertEqual(runs[0].count, 24)
    XCTAssertFalse(runs[0][0].isEmpty)
    XCTAssertEqual(runs[0], runs[1])
  }

  /// A sample that does not fit fails with its number, whichever lane ran it.
  func testAFailingSampleIsNamedInOrder() throws {
    let model = try RewriteTestSupport.model(Self.text)
    SampleLanes.policy = .always
    var options = CalibrationOptions()
    options.executionOptions.threads = 2
    let good = SyntheticCalibrationSource(model: model, count: 1, seed: 1)
    var first = good
    let sample = try XCTUnwrap(try first.nextSample())
    let bad: [String: HostTensor] = [
      "x": HostTensor(.float, shape: [1, 3, 5, 5], values: [Float](repeating: 0, count: 75))
    ]
    var source: CalibrationSource = ArrayCalibrationSource([sample, sample, sample, bad, sample])
    XCTAssertThrowsError(try Calibrator(model: model, tensors: ["r"], options: options).run(&source)) { error in
      XCTAssertTrue("\(error)".contains("calibration sample 4"), "\(error)")
    }
  }
}
