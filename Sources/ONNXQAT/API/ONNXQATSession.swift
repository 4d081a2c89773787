import Foundation

/// The verbs as library calls that read like the command line: load a model (path or bytes),
/// fold, insert, lower, verify, convert, save (path or bytes), with options by name
/// (`VerbOptions`, the flag names without dashes) and the reports `--json` prints. A session
/// carries a progress callback and a cancellation flag; it holds no other state, so sessions
/// (and one session on independent models) may run on several threads at once.
///
/// ```swift
/// let session = ONNXQATSession()
/// let model = try session.load(path: "model.onnx")
/// let insert = try session.insert(model, options: ["calib": "samples/", "method": "entropy"])
/// let lower = try session.lower(model, options: ["int-io": true])
/// try session.save(model, to: "model_int.onnx")
/// ```
///
/// The verbs edit the model in place; when one throws (bad options, bad samples, cancellation)
/// the model may be half edited and should be discarded.
public struct ONNXQATSession: Sendable {
  /// Called with each stage as it starts and finishes, and after each sample.
  public var progress: (@Sendable (VerbProgress) -> Void)?
  /// When set, the verbs stop at their next check and throw `ONNXQATError.cancelled`.
  public var cancellation: CancellationFlag?

  /// A session with an optional progress callback and cancellation flag.
  public init(
    progress: (@Sendable (VerbProgress) -> Void)? = nil, cancellation: CancellationFlag? = nil
  ) {
    self.progress = progress
    self.cancellation = cancellation
  }

  /// Throws `ONNXQATError.cancelled` when the flag is set or the current task is cancelled.
  public func checkCancellation(_ stage: VerbProgress.Stage) throws {
    if cancellation?.isCancelled == true || Task.isCancelled {
      throw ONNXQATError.cancelled(stage: stage.rawValue)
    }
  }

  func report(_ event: VerbProgress) { progress?(event) }

  /// Runs one stage: checks cancellation, reports it started and finished.
  func stage<T>(_ stage: VerbProgress.Stage, _ body: () throws -> T) throws -> T {
    try checkCancellation(stage)
    report(.init(stage: stage, done: 0, total: 1))
    let result = try body()
    report(.init(stage: stage, done: 1, total: 1))
    return result
  }

  /// Loads the model at `path` (external data from its folder).
  public func load(path: String) throws -> Model {
    try stage(.load) { try ModelLoader.load(path: path) }
  }

  /// Loads a model from memory; `name` names it in errors.
  public func load(bytes: Data, name: String = "<memory>") throws -> Model {
    try stage(.load) { try ModelLoader.load(bytes: bytes, name: name) }
  }

  /// `fold`: constant folding, batch-norm folding, dead nodes and duplicate initializers.
  public func fold(_ model: Model, log: RewriteLog = RewriteLog()) throws -> FoldReport {
    try stage(.fold) { try Folding.fold(model, log: log) }
  }

  /// `insert`: fold, calibrate and write the Q/DQ pairs. The samples come from `calibration`
  /// when given, otherwise from the `calib` option; `options` takes `insert`'s flags by name.
  public func insert(
    _ model: Model, options: VerbOptions = [:], calibration: CalibrationInput? = nil,
    log: RewriteLog = RewriteLog()
  ) throws -> InsertReport {
    let settings = try options.insertSettings()
    guard let input = calibration ?? settings.calibration.map(CalibrationInput.spec) else {
      throw ONNXQATError.badArgument(
        "insert: no calibration samples: give \(options.label("calib")) (a folder or synthetic:N) or samples")
    }
    return try stage(.insert) {
      try QDQInsertion.insert(
        model, options: settings.quantization,
        calibration: { CheckedCalibrationSource(try input.makeSource(for: model), stage: .calibrate, session: self) },
        synthetic: input.isSynthetic, log: log,
        progress: { self.report(.init(stage: .calibrate, done: $0.done, total: $0.total)) })
    }
  }

  /// `lower`: the fake-quant graph to integer ops; `options` takes `lower`'s flags by name.
  public func lower(_ model: Model, options: VerbOptions = [:], log: RewriteLog = RewriteLog()) throws
    -> LoweringReport
  {
    let lowering = try options.loweringOptions()
    return try stage(.lower) { try IntegerLowering.lower(model, options: lowering, log: log) }
  }

  /// `verify`: runs the fake-quant and the integer graph (and the float model) on the same
  /// samples, from `samples` when given, otherwise from the `data` or `calib` option.
  public func verify(
    qdq: Model, integer: Model, float: Model? = nil, options: VerbOptions = [:], samples: CalibrationInput? = nil
  ) throws -> VerifyReport {
    let settings = try options.verifySettings()
    guard let input = samples ?? settings.samples.map(CalibrationInput.spec) else {
      throw ONNXQATError.badArgument(
        "verify: no samples: give \(options.label("data")) (a folder) or \(options.label("calib")) synthetic:N")
    }
    let source = CheckedCalibrationSource(try input.makeSource(for: qdq), stage: .verify, session: self)
    return try stage(.verify) {
      try Verifier.verify(
        qdq: qdq, integer: integer, float: float, samples: source, options: settings.execution,
        maxSamples: settings.maxSamples)
    }
  }

  /// Saves `model` to `path`; `options` takes `convert`'s `external-data` and
  /// `inline-external-data`. Written atomically; returns the files written.
  @discardableResult
  public func save(_ model: Model, to path: String, options: VerbOptions = [:]) throws -> ConvertReport {
    let policy = try options.externalDataPolicy()
    return try stage(.save) { ConvertReport(files: try ModelSaver.save(model, to: path, externalData: policy)) }
  }

  /// The model as ONNX bytes (external tensors stay external).
  public func serialize(_ model: Model) throws -> Data {
    try stage(.save) { try ModelSaver.serialize(model) }
  }

  /// `convert`: loads `path` and saves it to `output` with `convert`'s options.
  @discardableResult
  public func convert(path: String, to output: String, options: VerbOptions = [:]) throws -> ConvertReport {
    _ = try options.externalDataPolicy()
    return try save(try load(path: path), to: output, options: options)
  }
}
