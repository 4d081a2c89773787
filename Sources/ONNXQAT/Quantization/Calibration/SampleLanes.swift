import Foundation

/// Runs the samples of a calibration source through a model, one sample per interpreter and two
/// interpreters at once when there are two samples or more, and hands each sample's result over
/// in sample order.
///
/// A run splits its kernels over the cores, but not every kernel splits and small tensors do not
/// split well; two samples on one thread each keep both cores busy throughout (two
/// single-threaded runs at once finish at least 30% sooner than two runs one after the other on
/// all cores, on this machine's models). The second lane is an `Interpreter(lane:)` of the same
/// model: the first interpreter's decoded initializers, plan and constant cache, its own buffer
/// pool. It costs a thread and the buffers of one run (its pool keeps what its next run needs, up
/// to its runs' peak), and no planning: the plan is made once, before the first sample, and both
/// lanes run from the first pair of samples on. The second lane runs on a `LaneThread` of its own
/// and the first on the calling thread, so that each lane's buffers stay in one malloc arena.
/// Only the time depends on the lanes: the work runs in the lanes, each result is delivered in
/// sample order on the calling thread, and kernels give the same bits whatever the thread count,
/// so results are identical.
///
/// Lanes are used only when the options allow more than one thread, the model is a single graph
/// (`Interpreter.runsOneGraph`) and the source says it has at least two samples. An error is
/// reported for the first failing sample in order.
struct SampleLanes {
  /// When a second lane is made.
  enum Policy {
    /// Whenever threads, the model and the sample count allow it (the default).
    case always
    /// Never (tests compare the two).
    case never
  }
  /// The policy of new runs (tests set `never` to compare).
  nonisolated(unsafe) static var policy = Policy.always
  /// Second lanes made so far in this process (tests check that a second lane ran).
  nonisolated(unsafe) static var secondLanesMade = 0

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
    let second = secondLane(source: source, limit: limit)
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

  /// The second lane, when the source has at least two samples (within `limit`), threads allow
  /// it and the model is a single graph.
  private func secondLane(source: CalibrationSource, limit: Int?) -> Interpreter? {
    guard Self.policy == .always, allowsSecondLane, primary.options.threads > 1, primary.runsOneGraph,
      let total = source.sampleCount, min(total, limit ?? .max) >= 2
    else { return nil }
    Self.secondLanesMade += 1
    return Interpreter(lane: primary)
  }
}
