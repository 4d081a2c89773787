import Foundation
import XCTest

@testable import ONNXQAT

/// `insert` on a real trained model with real data (Fixtures/digits: a CNN with BatchNormalization
/// trained on scikit-learn's 8x8 digits, 32 calibration images, 360 held-out test images): the
/// fake-quant model keeps the float accuracy within one point, and its logits are at least as
/// close to the float logits (SNR in dB) as those of onnxruntime's `quantize_static` (QDQ,
/// per-channel, MinMax, uint8 activations, int8 weights) calibrated on the same samples.
final class AccuracyTests: XCTestCase {
  static let folder = TestSupport.fixtures + "/digits"
  static let modelPath = folder + "/digits_cnn.onnx"
  /// How far below onnxruntime's SNR ours may be (dB).
  static let snrMargin = 0.5
  /// How far below the float accuracy the fake-quant accuracy may be (fraction of the test set).
  static let accuracyMargin = 0.01

  struct TestSet {
    var images: HostTensor
    var labels: [Int64]
  }

  static func testSet() throws -> TestSet {
    let arrays = try TensorInputs.load(path: folder + "/test.npz")
    guard let images = arrays["x"], let labels = arrays["y"] else {
      throw ONNXQATError.badArgument("test.npz: expected members x and y, found \(arrays.keys.sorted())")
    }
    XCTAssertEqual(images.shape, [360, 1, 8, 8])
    XCTAssertEqual(labels.dataType, .int64)
    return TestSet(images: images, labels: labels.values(Int64.self))
  }

  /// The 32 calibration images, one sample per file, in name order.
  static func calibrationSamples(_ model: Model) throws -> [[String: HostTensor]] {
    let inputs = model.graph.inputs.filter { $0.initializer == nil }.map(\.name)
    let samples = try TensorInputs.samples(folder: folder + "/calib", inputNames: inputs).map(\.1)
    XCTAssertEqual(samples.count, 32)
    XCTAssertEqual(samples.first?["input"]?.shape, [1, 1, 8, 8])
    return samples
  }

  /// The logits of the whole test set in one batch (the model's batch dimension is symbolic).
  static func logits(_ model: Model, _ test: TestSet) throws -> HostTensor {
    let outputs = try Interpreter(model: model).run(["input": test.images])
    guard let logits = outputs["logits"] else { throw ONNXQATError.badArgument("the model has no output 'logits'") }
    XCTAssertEqual(logits.shape, [test.labels.count, 10])
    return logits
  }

  /// Fraction of rows whose largest logit is at the label.
  static func accuracy(_ logits: HostTensor, _ labels: [Int64]) -> Double {
    let values = logits.values(Float.self)
    let classes = logits.shape[1]
    var correct = 0
    for (row, label) in labels.enumerated() {
      let scores = values[(row * classes)..<((row + 1) * classes)]
      guard let best = scores.indices.max(by: { scores[$0] < scores[$1] }) else { continue }
      if best - row * classes == Int(label) { correct += 1 }
    }
    return Double(correct) / Double(labels.count)
  }

  static func percent(_ fraction: Double) -> String { String(format: "%.2f%%", 100 * fraction) }
  static func decibels(_ value: Double) -> String { String(format: "%.2f dB", value) }

  static func snr(_ reference: HostTensor, _ actual: HostTensor) -> Double {
    var metrics = ErrorMetrics(output: "logits")
    metrics.add(reference: reference, actual: actual)
    return metrics.snrDecibels
  }

  /// The fixture quantized by `insert` with the 32 calibration samples.
  func quantized(_ options: QuantizationOptions, samples: [[String: HostTensor]]? = nil) throws -> (Model, InsertReport)
  {
    let model = try ModelLoader.load(path: Self.modelPath)
    let data = try samples ?? Self.calibrationSamples(model)
    let report = try QDQInsertion.insert(model, options: options, calibration: { ArrayCalibrationSource(data) })
    XCTAssertEqual(report.samples, data.count)
    return (model, report)
  }

  static func options(_ form: QuantizationOptions.WeightsForm) -> QuantizationOptions {
    var options = QuantizationOptions(preset: .ort)
    options.calibration.method = .minmax
    options.weightsForm = form
    return options
  }

  func testFloatFixtureIsATrainedClassifier() throws {
    let test = try Self.testSet()
    let float = try Self.logits(try ModelLoader.load(path: Self.modelPath), test)
    let accuracy = Self.accuracy(float, test.labels)
    print("digits float accuracy (our executor): \(Self.percent(accuracy))")
    XCTAssertGreaterThan(accuracy, 0.9)
    XCTAssertEqual(Set(test.labels), Set(0...9), "the test set holds every digit")
  }

  func testFakeQuantAccuracyStaysWithinOnePointOfFloatInBothWeightForms() throws {
    let test = try Self.testSet()
    let floatAccuracy = Self.accuracy(try Self.logits(try ModelLoader.load(path: Self.modelPath), test), test.labels)
    for form in [QuantizationOptions.WeightsForm.qdq, .dq] {
      let (model, report) = try quantized(Self.options(form))
      XCTAssertEqual(report.weightsForm, form.rawValue)
      XCTAssertGreaterThan(model.graph.nodes.filter { $0.opType == "DequantizeLinear" }.count, 3)
      let accuracy = Self.accuracy(try Self.logits(model, test), test.labels)
      print(
        "digits \(form.rawValue) weights: fake-quant accuracy \(Self.percent(accuracy)),"
          + " float \(Self.percent(floatAccuracy))")
      XCTAssertGreaterThanOrEqual(accuracy, floatAccuracy - Self.accuracyMargin, "\(form.rawValue) weights")
    }
  }

  /// The accuracy check can fail: calibrating on one blank image gives the input a range of zero
  /// (scale 1 after the zero-range fallback: pixels round to 0 or 1) and every other activation
  /// the narrow range a blank image produces, so real digits saturate.
  func testCalibratingOnBlankImagesLosesAccuracy() throws {
    let test = try Self.testSet()
    let floatAccuracy = Self.accuracy(try Self.logits(try ModelLoader.load(path: Self.modelPath), test), test.labels)
    let blank = [["input": HostTensor(zeros: .float, shape: [1, 1, 8, 8])]]
    let (model, report) = try quantized(Self.options(.qdq), samples: blank)
    XCTAssertFalse(report.warnings.filter { $0.contains("zero range") }.isEmpty, "\(report.warnings)")
    let accuracy = Self.accuracy(try Self.logits(model, test), test.labels)
    print("digits calibrated on a blank image: accuracy \(Self.percent(accuracy))")
    XCTAssertLessThan(accuracy, floatAccuracy - Self.accuracyMargin)
  }

  /// Files written by Tests/interop/ort_quantize_static.py for the fixture, in a fresh folder.
  struct OnnxRuntimeRun {
    /// onnxruntime's fake-quant model.
    var qdq: Model
    /// The float graph onnxruntime quantized (after its quant_pre_process: BatchNormalization folded).
    var prepared: Model
    /// onnxruntime's outputs for the test batch: the float model's and its fake-quant model's.
    var floatLogits: HostTensor
    var qdqLogits: HostTensor
  }

  func runOnnxRuntime() throws -> OnnxRuntimeRun {
    try TestSupport.requirePython()
    let out = try TestSupport.temporaryDirectory(self)
    let result = try TestSupport.run(
      TestSupport.python,
      [
        TestSupport.root + "/Tests/interop/ort_quantize_static.py", Self.modelPath, Self.folder + "/calib", out,
        "--test", Self.folder + "/test.npz",
      ])
    guard result.status == 0 else {
      throw ONNXQATError.badArgument("ort_quantize_static.py failed: \(result.stdout + result.stderr)")
    }
    func logits(_ file: String) throws -> HostTensor {
      guard let tensor = try TensorInputs.load(path: out + "/" + file, name: "logits")["logits"] else {
        throw ONNXQATError.badArgument("\(file): no tensor")
      }
      return tensor
    }
    return OnnxRuntimeRun(
      qdq: try ModelLoader.load(path: out + "/ort_qdq.onnx"),
      prepared: try ModelLoader.load(path: out + "/ort_prepared.onnx"),
      floatLogits: try logits("float_outputs.npy"), qdqLogits: try logits("ort_qdq_outputs.npy"))
  }

  /// onnxruntime's quantize_static on the same model and samples; both fake-quant models run in
  /// our executor (onnxruntime's also in onnxruntime, as a cross-check of the executor).
  func testSignalToNoiseRatioIsAtLeastOnnxRuntimeQuantizeStatic() throws {
    let test = try Self.testSet()
    let ort = try runOnnxRuntime()
    let float = try Self.logits(try ModelLoader.load(path: Self.modelPath), test)
    let floatAccuracy = Self.accuracy(float, test.labels)
    XCTAssertGreaterThan(Self.snr(ort.floatLogits, float), 100, "float logits: ours vs onnxruntime")

    XCTAssertGreaterThan(ort.qdq.graph.nodes.filter { $0.opType == "QuantizeLinear" }.count, 2)
    let ortLogits = try Self.logits(ort.qdq, test)
    XCTAssertGreaterThan(Self.snr(ort.qdqLogits, ortLogits), 60, "onnxruntime's fake-quant model: ours vs onnxruntime")
    let ortSNR = Self.snr(float, ortLogits)
    let ortAccuracy = Self.accuracy(ortLogits, test.labels)
    print(
      "digits onnxruntime quantize_static: SNR \(Self.decibels(ortSNR)),"
        + " accuracy \(Self.percent(ortAccuracy)) (float \(Self.percent(floatAccuracy)))"
    )
    for form in [QuantizationOptions.WeightsForm.qdq, .dq] {
      let (model, _) = try quantized(Self.options(form))
      // Like onnxruntime's quant_pre_process, insert folds each BatchNormalization into its Conv,
      // so no Q/DQ pair sits between them.
      XCTAssertFalse(
        model.graph.nodes.contains { $0.opType == "BatchNormalization" }, "BatchNormalization left unfolded by insert")
      let logits = try Self.logits(model, test)
      let ours = Self.snr(float, logits)
      let accuracy = Self.accuracy(logits, test.labels)
      print(
        "digits onnx-qat insert (\(form.rawValue) weights): SNR \(Self.decibels(ours)),"
          + " accuracy \(Self.percent(accuracy))")
      XCTAssertGreaterThanOrEqual(
        ours, ortSNR - Self.snrMargin, "\(form.rawValue) weights: SNR against the float logits below onnxruntime's")
      try RewriteTestSupport.assertValidInOnnxAndOrt(model)
    }
  }

  /// On the very graph onnxruntime quantizes (its quant_pre_process output), calibration and
  /// weight quantization agree with onnxruntime's MinMax: the same scales and zero points for
  /// the input, the Relu outputs, the logits and the per-channel weights (symmetric int8 in
  /// [-127, 127]), and an SNR at least onnxruntime's. This isolates Q/DQ placement and
  /// calibration from BatchNormalization folding.
  func testOnTheGraphOnnxRuntimeQuantizesScalesAndSignalToNoiseMatchIt() throws {
    let test = try Self.testSet()
    let ort = try runOnnxRuntime()
    let model = ort.prepared
    let data = try Self.calibrationSamples(model)
    _ = try QDQInsertion.insert(model, options: Self.options(.qdq), calibration: { ArrayCalibrationSource(data) })

    func parameters(_ model: Model) -> [String: [Double]] {
      var result: [String: [Double]] = [:]
      for value in model.graph.initializers where value.name.hasSuffix("_scale") || value.name.hasSuffix("_zero_point")
      {
        if let tensor = value.initializer, let host = try? HostTensor(tensor) { result[value.name] = host.doubles() }
      }
      return result
    }
    let theirs = parameters(ort.qdq)
    let ours = parameters(model)
    let common = Set(theirs.keys).intersection(ours.keys).sorted()
    XCTAssertGreaterThanOrEqual(common.count, 14, "shared parameter names: \(common)")
    for name in common {
      guard let a = ours[name], let b = theirs[name] else { continue }
      XCTAssertEqual(a.count, b.count, name)
      for (x, y) in zip(a, b) {
        XCTAssertEqual(x, y, accuracy: 1e-6 * max(abs(y), 1e-30) + (name.hasSuffix("_zero_point") ? 0 : 1e-12), name)
      }
    }

    let float = try Self.logits(try ModelLoader.load(path: Self.modelPath), test)
    let ortSNR = Self.snr(float, try Self.logits(ort.qdq, test))
    let oursSNR = Self.snr(float, try Self.logits(model, test))
    print(
      "digits, BatchNormalization folded by onnxruntime: onnx-qat insert SNR \(Self.decibels(oursSNR)),"
        + " onnxruntime \(Self.decibels(ortSNR))")
    XCTAssertGreaterThanOrEqual(oursSNR, ortSNR - Self.snrMargin)
  }
}
