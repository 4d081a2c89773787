import Foundation

/// Runs calibration samples through the model with our interpreter and gathers, for each
/// requested tensor, the statistics its quantization range is chosen from.
///
/// Each sample runs once; the interpreter's `observer` sees every graph input and main-graph node
/// output as it is computed, and only the requested tensors are summarized (`TensorStatistics`):
/// no activation is kept, so memory does not grow with the number of samples. Requested
/// initializers are summarized once, from their constant value.
///
/// Errors: 1. a requested name that is not a value of the main graph; 2. options out of range;
/// 3. a sample that does not fit the graph (the message names the sample); 4. a source with no
/// samples.
public final class Calibrator {
  public let model: Model
  public let tensors: [String]
  public let options: CalibrationOptions
  private let interpreter: Interpreter
  /// Requested values computed while running, by identity: their index in `tensors`.
  private let watched: [ObjectIdentifier: Int]
  /// Requested initializers.
  private let constants: [(String, Tensor)]

  /// Prepares calibration of `tensors` of `model`. `interpreter`, when given, is an Interpreter of
  /// `model` with `options.executionOptions` to run the samples with (its plans and constants are
  /// then not made a second time); its observer is replaced while `run` runs.
  public init(model: Model, tensors: [String], options: CalibrationOptions, interpreter: Interpreter? = nil) throws {
    try options.validate()
    var watched: [ObjectIdentifier: Int] = [:]
    var constants: [(String, Tensor)] = []
    for (index, name) in tensors.enumerated() {
      guard let value = model.graph.value(named: name) else {
        throw ONNXQATError.badArgument("calibration tensor '\(name)' is not a value of the main graph")  // error 1
      }
      if let initializer = value.initializer {
        constants.append((name, initializer))
      } else {
        if watched[ObjectIdentifier(value)] == nil { watched[ObjectIdentifier(value)] = index }
      }
    }
    self.model = model
    self.tensors = tensors
    self.options = options
    self.watched = watched
    self.constants = constants
    if let interpreter, interpreter.model === model {
      self.interpreter = interpreter
    } else {
      self.interpreter = try Interpreter(model: model, options: options.executionOptions)
    }
  }

  /// Reads samples from `source` (up to `options.maxSamples`) and returns the statistics.
  /// `progress` is called after each sample; `outputs`, when given, receives each sample's graph
  /// outputs (the float reference of the error measurement, without running the model again).
  public func run(
    _ source: inout CalibrationSource, progress: ((CalibrationProgress) -> Void)? = nil,
    outputs: (([String: HostTensor]) throws -> Void)? = nil
  ) throws -> CalibrationResult {
    let bins = options.method.needsHistogram ? options.histogramBins : nil
    let accumulator = Accumulator()
    accumulator.statistics = tensors.map { _ in
      TensorStatistics(histogramBins: bins, averagingConstant: options.averagingConstant)
    }
    var slot: [String: Int] = [:]
    for (index, name) in tensors.enumerated() where slot[name] == nil { slot[name] = index }
    for (name, tensor) in constants {
      guard let index = slot[name] else { continue }
      do {
        accumulator.statistics[index].add(try HostTensor(tensor))
      } catch {
        throw ONNXQATError.badArgument("calibration tensor '\(name)': cannot read the initializer: \(error)")
      }
    }
    let watched = self.watched
    var total = source.sampleCount
    if let limit = options.maxSamples { total = total.map { Swift.min($0, limit) } ?? limit }
    let start = Date()
    var lanes = SampleLanes(primary: interpreter)
    // One per lane, by lane index (none when the histogram observer adds the values itself).
    var recorders: [SampleRecorder] = []
    func record(on lane: Interpreter) {
      let recorder = SampleRecorder(count: tensors.count)
      recorders.append(recorder)
      lane.observer = { value, tensor in
        guard let index = watched[ObjectIdentifier(value)] else { return }
        recorder.summaries[index] = SampleSummary(tensor)
      }
    }
    if options.method.needsHistogram {
      // Histograms need the values themselves, in sample order: one lane, added as they come.
      lanes.allowsSecondLane = false
      interpreter.observer = { value, tensor in
        guard let index = watched[ObjectIdentifier(value)] else { return }
        accumulator.statistics[index].add(tensor)
      }
    } else {
      record(on: interpreter)
    }
    defer { interpreter.observer = nil }
    let done = try lanes.run(
      &source, limit: options.maxSamples, prepare: record(on:),
      work: { lane, index, sample, number -> ([String: HostTensor], [SampleSummary?]) in
        let recorder = index < recorders.count ? recorders[index] : nil
        recorder?.clear()
        do {
          let results = try lane.run(sample)
          return (results, recorder?.summaries ?? [])
        } catch let error as ONNXQATError {
          throw ONNXQATError.badArgument("calibration sample \(number): \(error.description)")  // error 3
        }
      },
      deliver: { result, number in
        for (index, summary) in result.1.enumerated() {
          if let summary { accumulator.statistics[index].apply(summary) }
        }
        try outputs?(result.0)
        progress?(.after(done: number, total: total, elapsed: Date().timeIntervalSince(start)))
      })
    guard done > 0 else {
      throw ONNXQATError.badArgument("the calibration source gave no samples")  // error 4
    }
    var statistics: [String: TensorStatistics] = [:]
    for (name, index) in slot { statistics[name] = accumulator.statistics[index] }
    return CalibrationResult(samples: done, options: options, statistics: statistics)
  }

  /// One lane's summaries of the watched tensors in the sample it is running.
  private final class SampleRecorder {
    var summaries: [SampleSummary?]
    init(count: Int) { summaries = Array(repeating: nil, count: count) }
    func clear() {
      for index in summaries.indices { summaries[index] = nil }
    }
  }

  /// The statistics being gathered, shared with the interpreter's observer.
  private final class Accumulator {
    /// One per entry of `tensors` (a repeated name uses its first entry).
    var statistics: [TensorStatistics] = []
  }
}
