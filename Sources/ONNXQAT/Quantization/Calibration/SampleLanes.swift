import Foundation

/// Runs the samples of a calibration source through a model, one sample per interpreter and two
/// interpreters at once when that pays, and hands each sample's result over in sample order.
///
/// A run splits its kernels over the cores, but not every kernel splits and small tensors do not
/// split well; two samples on one thread each keep both cores busy throughout. The second lane is
/// an `Interpreter(lane:)` of the same model: its own plan, constant cache and buffer pool, the
/// first interpreter's decoded initializers. It runs on a `LaneThread` of its own and the first
/// lane on the calling thread, so that each lane's buffers stay in one malloc arena; its memory
/// is its plan's buffers (its pool keeps what its next run needs, up to its runs' peak). Its
/// plan costs about 10 microseconds a node, so it is made only when the samples left are
/// expected to save at least twice that: after the first
/// sample, timed on the first lane alone, when `samples left x that run's time x 0.3` exceeds it
/// (0.3: two single-threaded runs at once finish at least that much sooner than two runs one
/// after the other on all cores, on this machine's models). Only the time depends on the choice:
/// the work runs in the lanes, each result is delivered in sample order on the calling thread,
/// and kernels give the same bits whatever the thread count, so results are identical.
///
/// Lanes are used only when the options allow more than one thread and the model is a single
/// graph (`Interpreter.runsOneGraph`). An error is reported for the first failing sample in order.
struct SampleLanes {
  /// When a second lane is made.
  enum Policy {
    /// When the expected saving pays for it (the default).
    case measured
    /// Whenever threads, the model and the sample count allow it (tests).
    case always
    /// Never.
    case never
  }
  /// The policy of new runs (tests set `always` and `never` to compare the two).
  nonisolated(unsafe) static var policy = Policy.measured
  /// Second lanes made so far in this process (tests check that a second lane ran).
  nonisolated(unsafe) static var secondLanesMade = 0
  /// Estimated cost of planning one node in a second lane (seconds).
  static let planSecondsPerNode = 10e-6
  /// The share of a run's time a second lane is expected to save, at least.
  static let expectedSaving = 0.3

  let primary: Interpreter
  /// False keeps every sample on `primary` (for work that must see the samples in order).
  var allowsSecondLane = true

  /// Runs up to `limit` samples of `source`: `prepare` is given the second lane when one is made,
  /// `work` runs one sample (1-based number) on the lane given (its interpreter and its index, 0
  /// or 1; on that lane's thread: it may touch only that lane's interpreter and what it creates),
  /// `deliver` receives the results in sample order on the calling thread. Returns the number of
  /// samples run.
  func run<Work>(
    _ source: inout CalibrationSource, limit: Int?,
    prepare: (Interpreter) -> Void = { _ in },
    work: (Interpreter, Int, [String: HostTensor], Int) throws -> Work,
    deliver: (Work, Int) throws -> Void
  ) throws -> Int {
    var done = 0
    // Whether the limit allows a sample beyond the `pending` ones read but not yet run.
    func more(pending: Int) -> Bool { limit.map { done + pending < $0 } ?? true }
    guard more(pending: 0), let first = try source.nextSample() else { return 0 }
    let start = Date()
    try deliver(try work(primary, 0, first, 1), 1)
    done = 1
    let runSeconds = Date().timeIntervalSince(start)
    let second = secondLane(source: source, limit: limit, done: done, runSeconds: runSeconds)
    var thread: LaneThread?
    if let second {
      prepare(second)
      thread = LaneThread(name: "onnx-qat lane 2")
    }
    defer { thread?.stop() }
    let threads = primary.options.threads
    defer { primary.options.threads = threads }
    if let second {
      for lane in [primary, second] { lane.options.threads = max(1, threads / 2) }
    }
    let lanes = second == nil ? 1 : 2
    var batch: [[String: HostTensor]] = []
    while true {
      batch.removeAll(keepingCapacity: true)
      while batch.count < lanes, more(pending: batch.count), let sample = try source.nextSample() {
        batch.append(sample)
      }
      if batch.isEmpty { return done }
      let first = done + 1
      var results: [Result<Work, Error>] = []
      if batch.count == 2, let second, let thread {
        var later: Result<Work, Error>?
        results.append(
          thread.run({ later = Result { try work(second, 1, batch[1], first + 1) } }) {
            Result { try work(primary, 0, batch[0], first) }
          })
        if let later { results.append(later) }
      } else {
        results.append(Result { try work(primary, 0, batch[0], first) })
      }
      for result in results {
        // A sample read ahead is not taken once the source says stop (a cancelled session).
        try source.checkContinue()
        done += 1
        try deliver(try result.get(), done)
      }
    }
  }

  /// The second lane, when the source has at least two more samples, threads allow it, the model
  /// is a single graph and the saving is expected to pay for the plan.
  private func secondLane(source: CalibrationSource, limit: Int?, done: Int, runSeconds: Double) -> Interpreter? {
    guard allowsSecondLane, primary.options.threads > 1, primary.runsOneGraph, let total = source.sampleCount else {
      return nil
    }
    let left = min(total, limit ?? .max) - done
    guard left >= 2 else { return nil }
    let planCost = Self.planSecondsPerNode * Double(primary.model.graph.nodeCount)
    switch Self.policy {
    case .never: return nil
    case .always: break
    case .measured: guard Double(left) * runSeconds * Self.expectedSaving > 2 * planCost else { return nil }
    }
    let lane = Interpreter(lane: primary)
    lane.prepare()
    Self.secondLanesMade += 1
    return lane
  }
}
