import Foundation
import XCTest

@testable import ONNXQAT

/// Calibration: statistics gathered through the interpreter's observer, and the range each
/// method chooses, checked against answers computed here from the same samples.
final class CalibrationTests: XCTestCase {
  static let text = """
    <ir_version: 8, opset_import: ["" : 13]>
    g (float[N, 256] x) => (float[N, 256] y) {
      r = Relu(x)
      y = Identity(r)
    }
    """

  static func reluModel() throws -> Model { try RewriteTestSupport.model(text) }

  /// One sample `[rows, 256]` from `make`, called with each element's flat index.
  static func sample(rows: Int = 4, _ make: (Int) -> Float) -> [String: HostTensor] {
    ["x": HostTensor(.float, shape: [rows, 256], values: (0..<(rows * 256)).map(make))]
  }

  /// Deterministic standard normal samples.
  static func normalSamples(count: Int, seed: UInt64, rows: Int = 4) -> [[String: HostTensor]] {
    var generator = NormalGenerator(seed: seed)
    return (0..<count).map { _ in sample(rows: rows) { _ in Float(generator.next()) } }
  }

  static func values(_ samples: [[String: HostTensor]]) -> [Float] {
    samples.flatMap { $0["x"]?.values(Float.self) ?? [] }
  }

  static func calibrate(
    _ model: Model, _ samples: [[String: HostTensor]], tensors: [String] = ["x", "r"],
    configure: (inout CalibrationOptions) -> Void = { _ in }
  ) throws -> CalibrationResult {
    var options = CalibrationOptions()
    configure(&options)
    var source: CalibrationSource = ArrayCalibrationSource(samples)
    return try Calibrator(model: model, tensors: tensors, options: options).run(&source)
  }

  /// The mean squared error of quantize-dequantize with the parameters of `range`.
  static func quantizationError(_ data: [Float], range: (min: Float, max: Float), type: QuantType, symmetric: Bool)
    -> Double
  {
    let parameters = QuantParameters.fromRange(min: range.min, max: range.max, type: type, symmetric: symmetric)
    let scale = parameters.scales[0]
    let zeroPoint = Float(parameters.zeroPoints[0])
    var total = 0.0
    for x in data {
      let q = min(max((x / scale).rounded(.toNearestOrEven) + zeroPoint, Float(type.qmin)), Float(type.qmax))
      let error = Double(x) - Double((q - zeroPoint) * scale)
      total += error * error
    }
    return total / Double(data.count)
  }

  // MARK: min-max

  func testMinMaxIsExactForInputsActivationsAndInitializers() throws {
    let model = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (float[N, 4] x) => (float[N, 4] y) <float[4] w = {0.5, -1.25, 3, 0.125}> {
        s = Add(x, w)
        y = Relu(s)
      }
      """)
    var generator = NormalGenerator(seed: 3)
    let samples = (0..<5).map { _ in
      ["x": HostTensor(.float, shape: [3, 4], values: (0..<12).map { _ in Float(generator.next() * 2) })]
    }
    let result = try Self.calibrate(model, samples, tensors: ["x", "s", "y", "w"])
    XCTAssertEqual(result.samples, 5)
    let weights: [Float] = [0.5, -1.25, 3, 0.125]
    let inputs = Self.values(samples)
    let sums = inputs.enumerated().map { $0.element + weights[$0.offset % 4] }
    let outputs = sums.map { max($0, 0) }
    for (name, data) in [("x", inputs), ("s", sums), ("y", outputs), ("w", weights)] {
      let observed = try XCTUnwrap(result.observedRange(of: name), name)
      XCTAssertEqual(observed.min, data.min(), name)
      XCTAssertEqual(observed.max, data.max(), name)
      let symmetric = try XCTUnwrap(result.range(of: name, type: .int8, symmetric: true))
      let bound = max(abs(data.min() ?? 0), abs(data.max() ?? 0))
      XCTAssertEqual(symmetric.min, -bound, name)
      XCTAssertEqual(symmetric.max, bound, name)
      let asymmetric = try XCTUnwrap(result.range(of: name, type: .uint8, symmetric: false))
      XCTAssertEqual(asymmetric.min, data.min(), name)
      XCTAssertEqual(asymmetric.max, data.max(), name)
    }
    XCTAssertEqual(result.statistics["w"]?.samples, 1, "an initializer is summarized once")
    XCTAssertNil(result.statistics["x"]?.histogram, "min-max keeps no histogram")
  }

  func testNonFiniteValuesAreCountedAndIgnored() throws {
    let model = try Self.reluModel()
    let special: [Int: Float] = [3: .nan, 70: .infinity, 200: -.infinity]
    let samples = [Self.sample(rows: 1) { special[$0] ?? Float($0 % 16) / 4 - 2 }]
    for method in CalibrationMethod.allCases {
      let result = try Self.calibrate(model, samples, tensors: ["x"]) { $0.method = method }
      let statistics = try XCTUnwrap(result.statistics["x"])
      XCTAssertEqual(statistics.nonFiniteCount, 3, "\(method)")
      XCTAssertEqual(statistics.count, 253, "\(method)")
      XCTAssertEqual(statistics.histogram?.total ?? 253, 253, "\(method)")
      let range = try XCTUnwrap(result.range(of: "x", type: .uint8, symmetric: false), "\(method)")
      XCTAssertTrue(range.min.isFinite && range.max.isFinite, "\(method): \(range)")
      XCTAssertGreaterThanOrEqual(range.min, -2, "\(method)")
      XCTAssertLessThanOrEqual(range.max, 1.75, "\(method)")
      // A tensor with no finite value has no range (skip case 1 of the range methods).
      let empty = try Self.calibrate(model, [Self.sample(rows: 1) { _ in .nan }], tensors: ["x"]) {
        $0.method = method
      }
      XCTAssertNil(empty.observedRange(of: "x"), "\(method)")
      XCTAssertNil(empty.range(of: "x", type: .int8, symmetric: true), "\(method)")
      XCTAssertEqual(empty.statistics["x"]?.nonFiniteCount, 256)
    }
  }

  func testMovingAverageFollowsTheFormula() throws {
    let model = try Self.reluModel()
    let samples = Self.normalSamples(count: 12, seed: 5).enumerated().map { index, sample in
      // Scale each sample differently so that the per-sample extremes move.
      let values = (sample["x"]?.values(Float.self) ?? []).map { $0 * Float(1 + index % 4) }
      return ["x": HostTensor(.float, shape: [4, 256], values: values)]
    }
    let constant = 0.25
    let result = try Self.calibrate(model, samples) {
      $0.movingAverage = true
      $0.averagingConstant = constant
    }
    var low = 0.0
    var high = 0.0
    for (index, sample) in samples.enumerated() {
      let values = sample["x"]?.values(Float.self) ?? []
      let (sampleLow, sampleHigh) = (Double(values.min() ?? 0), Double(values.max() ?? 0))
      if index == 0 {
        (low, high) = (sampleLow, sampleHigh)
      } else {
        low += constant * (sampleLow - low)
        high += constant * (sampleHigh - high)
      }
    }
    let range = try XCTUnwrap(result.range(of: "x", type: .uint8, symmetric: false))
    XCTAssertEqual(Double(range.min), low, accuracy: 1e-6)
    XCTAssertEqual(Double(range.max), high, accuracy: 1e-6)
    let observed = try XCTUnwrap(result.observedRange(of: "x"))
    XCTAssertLessThan(observed.min, range.min, "the average lies inside the extremes")
    XCTAssertGreaterThan(observed.max, range.max)
  }

  // MARK: histogram methods

  func testPercentileOfUniformRampIsWithinOneBin() throws {
    let model = try Self.reluModel()
    // 10 samples of 1024: the ramp -1 + 2k / (N - 1) over all samples, shuffled across samples.
    let total = 10 * 1024
    let ramp = (0..<total).map { -1 + 2 * Float($0) / Float(total - 1) }
    let samples = (0..<10).map { index in Self.sample { ramp[($0 * 10 + index) % total] } }
    let everything = try Self.calibrate(model, samples) {
      $0.method = .percentile
      $0.percentile = 100
    }
    let observed = try XCTUnwrap(everything.observedRange(of: "x"))
    let whole = try XCTUnwrap(everything.range(of: "x", type: .uint8, symmetric: false))
    XCTAssertEqual([whole.min, whole.max], [observed.min, observed.max], "P100 keeps everything")
    XCTAssertEqual(everything.range(of: "x", type: .int8, symmetric: true)?.max, max(-observed.min, observed.max))
    for percentile in [99.0, 95.0, 90.0] {
      let result = try Self.calibrate(model, samples) {
        $0.method = .percentile
        $0.percentile = percentile
      }
      let width = try XCTUnwrap(result.statistics["x"]?.histogram?.binWidth)
      let magnitudes = ramp.map { abs($0) }.sorted()
      let expected = magnitudes[Int((percentile / 100 * Double(total)).rounded(.up)) - 1]
      let symmetric = try XCTUnwrap(result.range(of: "x", type: .int8, symmetric: true))
      XCTAssertEqual(Double(symmetric.max), Double(expected), accuracy: width, "P\(percentile)")
      XCTAssertEqual(symmetric.min, -symmetric.max)
      let sorted = ramp.sorted()
      let tail = (100 - percentile) / 200 * Double(total)
      let asymmetric = try XCTUnwrap(result.range(of: "x", type: .uint8, symmetric: false))
      XCTAssertEqual(Double(asymmetric.min), Double(sorted[Int(tail)]), accuracy: width, "P\(percentile) low")
      XCTAssertEqual(Double(asymmetric.max), Double(sorted[total - 1 - Int(tail)]), accuracy: width)
    }
  }

  func testEntropyThresholdIgnoresRareOutliers() throws {
    let model = try Self.reluModel()
    var samples = Self.normalSamples(count: 20, seed: 9)
    let base = samples[7]["x"]?.values(Float.self) ?? []
    samples[7] = Self.sample { index in [11: 40, 500: -40, 900: 35][index] ?? base[index] }
    let result = try Self.calibrate(model, samples) { $0.method = .entropy }
    let observed = try XCTUnwrap(result.observedRange(of: "x"))
    XCTAssertEqual(observed.max, 40)
    for (type, symmetric) in [(QuantType.int8, true), (.uint8, false)] {
      let range = try XCTUnwrap(result.range(of: "x", type: type, symmetric: symmetric))
      XCTAssertLessThan(range.max, 0.25 * observed.max, "\(type) symmetric \(symmetric): \(range)")
      XCTAssertGreaterThan(range.max, 2.5, "\(type) symmetric \(symmetric): keeps the bulk of N(0, 1): \(range)")
      XCTAssertLessThan(range.min, -2.5)
    }
    let relu = try XCTUnwrap(result.range(of: "r", type: .uint8, symmetric: false))
    XCTAssertEqual(relu.min, 0)
    XCTAssertLessThan(relu.max, 0.25 * observed.max, "\(relu)")
    XCTAssertEqual(result.observedRange(of: "r")?.max, 40)
    XCTAssertGreaterThan(relu.max, 2.5, "\(relu)")
  }

  func testFastDivergenceEqualsTheDefinition() {
    var generator = NormalGenerator(seed: 31)
    for trial in 0..<40 {
      let size = 64 + trial * 7
      // Sparse counts with empty runs, so that groups with no mass and clipped mass meet.
      let counts = (0..<size).map { _ in generator.uniform() < 0.4 ? 0 : Int(generator.uniform() * 50) }
      let sums = EntropyRange.PrefixSums(counts)
      let levels = [3, 8, 16, 40][trial % 4]
      let lower = Int(generator.uniform() * Double(size / 3))
      let upper = size - Int(generator.uniform() * Double(size / 3))
      let left = Double(counts[..<lower].reduce(0, +))
      let right = Double(counts[upper...].reduce(0, +))
      let window = counts[lower..<upper].map(Double.init)
      var reference = window
      reference[0] += left
      reference[reference.count - 1] += right
      let fast = sums.divergence(lower: lower, upper: upper, left: left, right: right, levels: levels)
      let plain = EntropyRange.divergence(reference: reference, window: window, levels: levels)
      XCTAssertEqual(fast, plain, accuracy: 1e-9 * max(1, abs(plain)), "trial \(trial)")
    }
  }

  func testEntropyWithoutOutliersKeepsNearlyTheWholeRange() throws {
    let model = try Self.reluModel()
    var generator = NormalGenerator(seed: 21)
    let samples = (0..<10).map { _ in Self.sample { _ in Float(generator.uniform() * 2 - 1) } }
    let result = try Self.calibrate(model, samples) { $0.method = .entropy }
    let range = try XCTUnwrap(result.range(of: "x", type: .int8, symmetric: true))
    let observed = try XCTUnwrap(result.observedRange(of: "x"))
    XCTAssertGreaterThan(range.max, 0.9 * max(observed.max, -observed.min), "uniform data: little to clip")
    // A Gaussian without outliers: an interior optimum, well above the search floor of 128 bins.
    let normal = try Self.calibrate(model, Self.normalSamples(count: 20, seed: 23)) { $0.method = .entropy }
    let gaussian = try XCTUnwrap(normal.range(of: "x", type: .int8, symmetric: true))
    let width = try XCTUnwrap(normal.statistics["x"]?.histogram?.binWidth)
    let largest = try XCTUnwrap(normal.observedRange(of: "x"))
    XCTAssertGreaterThan(Double(gaussian.max), 2 * 128 * width, "\(gaussian), bin width \(width)")
    XCTAssertGreaterThan(gaussian.max, 2.5, "\(gaussian)")
    XCTAssertLessThan(gaussian.max, max(largest.max, -largest.min), "\(gaussian) \(largest)")
    print("entropy of N(0, 1), int8 symmetric: \(gaussian.max) (max |x| \(max(largest.max, -largest.min)))")
  }

  func testMSEClipsLaplaceTailsButNotUniform() throws {
    let model = try Self.reluModel()
    var generator = NormalGenerator(seed: 13)
    func laplace() -> Float {
      let u = generator.uniform() - 0.5
      return Float(-(u < 0 ? -1.0 : 1.0) * Foundation.log(1 - 2 * abs(u)))
    }
    let heavy = (0..<20).map { _ in Self.sample { _ in laplace() } }
    let flat = (0..<20).map { _ in Self.sample { _ in Float(generator.uniform() * 2 - 1) } }
    for (name, samples, clips) in [("laplace", heavy, true), ("uniform", flat, false)] {
      let result = try Self.calibrate(model, samples) { $0.method = .mse }
      let data = Self.values(samples)
      let observed = try XCTUnwrap(result.observedRange(of: "x"))
      let int4 = QuantType(.int4, restricted: true)
      for (type, symmetric) in [(QuantType.int8Restricted, true), (.uint8, false), (int4, true)] {
        let label = "\(name) \(type.dataType.name) symmetric \(symmetric)"
        let range = try XCTUnwrap(result.range(of: "x", type: type, symmetric: symmetric), label)
        let full = symmetric ? (-max(-observed.min, observed.max), max(-observed.min, observed.max)) : observed
        if clips && type.dataType == .int4 {
          // Laplace(0, 1) with 4 bits: the clipping that minimizes the expected error is about
          // 5 b (Banner et al., ACIQ: 5.03 b for 16 levels), far below the maximum (about 9 b).
          XCTAssertEqual(range.max, 5, accuracy: 1, "\(label): \(range)")
          XCTAssertEqual(range.min, -range.max)
          XCTAssertLessThan(range.max, 0.7 * full.1, "\(label): \(range)")
        } else if clips {
          // With 8 bits the optimum (about 9.9 b) is near the largest of 20k samples: only the
          // sparse far tail is clipped.
          XCTAssertLessThan(range.max, full.1, "\(label): \(range)")
          XCTAssertGreaterThan(range.max, 0.7 * full.1, "\(label): \(range)")
          XCTAssertGreaterThan(range.min, full.0, "\(label): \(range)")
          XCTAssertLessThan(range.min, 0.7 * full.0, "\(label): \(range)")
        } else {
          // Uniform on [-1, 1] with n = qmax - qmin steps: rounding error ~ t^3 / (3 n^2) against
          // clipping (1 - t)^3 / 3 is smallest near t = n / (n + 1) of the maximum.
          let steps = Float(type.qmax - type.qmin)
          let optimum = steps / (steps + 1)
          XCTAssertEqual(range.max / full.1, optimum, accuracy: 0.03, "\(label): \(range)")
          XCTAssertEqual(range.min / full.0, optimum, accuracy: 0.03, "\(label): \(range)")
        }
        // The chosen range really quantizes the data better than (or as well as) min-max.
        let chosen = Self.quantizationError(data, range: range, type: type, symmetric: symmetric)
        let plain = Self.quantizationError(data, range: full, type: type, symmetric: symmetric)
        XCTAssertLessThanOrEqual(chosen, plain * 1.001, "\(label): chosen \(chosen), min-max \(plain)")
      }
    }
  }

  func testMSESearchFindsTheExhaustiveOptimum() {
    var generator = NormalGenerator(seed: 41)
    for (trial, skew) in [1.0, 0.3, 3.0].enumerated() {
      // Laplace values, stretched on the positive side by `skew`, in a 64-bin |x| histogram.
      var statistics = TensorStatistics(histogramBins: 64)
      for _ in 0..<10 {
        let values = (0..<500).map { _ -> Float in
          let u = generator.uniform() - 0.5
          let x = -(u < 0 ? -1.0 : 1.0) * Foundation.log(1 - 2 * abs(u))
          return Float(x > 0 ? x * skew : x)
        }
        values.withUnsafeBufferPointer { statistics.add($0) }
      }
      guard let histogram = statistics.histogram else { return XCTFail("no histogram") }
      let bins = MSERange.occupiedBins(histogram, min: Double(statistics.min), max: Double(statistics.max))
      let edges = (0...histogram.binCount).map { histogram.edge($0) }
      let lows = [Double(statistics.min)] + edges.filter { $0 > Double(statistics.min) && $0 <= 0 }
      let highs = edges.filter { $0 >= 0 && $0 < Double(statistics.max) } + [Double(statistics.max)]
      for type in [QuantType.uint8, QuantType(.uint4)] {
        var exhaustive = Double.infinity
        for low in lows {
          for high in highs {
            exhaustive = min(
              exhaustive, MSERange.expectedError(bins, low: low, high: high, type: type, symmetric: false))
          }
        }
        guard let chosen = MSERange.range(statistics, type: type, symmetric: false) else { return XCTFail("no range") }
        let found = MSERange.expectedError(
          bins, low: Double(chosen.min), high: Double(chosen.max), type: type, symmetric: false)
        XCTAssertLessThanOrEqual(found, exhaustive * 1.01, "trial \(trial) \(type.dataType.name): \(chosen)")
        let maxAbs = Double(max(-statistics.min, statistics.max))
        let magnitudes = edges.filter { $0 > 0 && $0 < maxAbs } + [maxAbs]
        var symmetricBest = Double.infinity
        for t in magnitudes {
          symmetricBest = min(
            symmetricBest, MSERange.expectedError(bins, low: -t, high: t, type: type, symmetric: true))
        }
        guard let symmetric = MSERange.range(statistics, type: type, symmetric: true) else { return XCTFail("none") }
        let symmetricFound = MSERange.expectedError(
          bins, low: Double(symmetric.min), high: Double(symmetric.max), type: type, symmetric: true)
        XCTAssertLessThanOrEqual(symmetricFound, symmetricBest * 1.01, "trial \(trial) symmetric \(type.dataType.name)")
      }
    }
  }

  func testHistogramGrowthKeepsCountsExact() {
    // Values are multiples of 2^-16 and limits powers of two, so every bin index is exact.
    var generator = NormalGenerator(seed: 17)
    func batch(_ scale: Double, _ count: Int) -> [Double] {
      (0..<count).map { _ in ((generator.uniform() * 2 - 1) * scale * 65536).rounded() / 65536 }
    }
    // The first batch reaches -1 (not +1: a value equal to +T sits in the closed last bin and so
    // would be counted one bin lower than a histogram made at the final range counts it).
    let batches = [[-1.0] + batch(0.99, 999), batch(3, 1000) + [-3.5], batch(0.5, 1000), [0, 0, 0]]
    var growing = StreamingHistogram(binCount: 64)
    growing.add(0)  // a zero before the range is known
    for values in batches {
      growing.cover(values.map { abs($0) }.max() ?? 0)
      for value in values { growing.add(value) }
    }
    XCTAssertEqual(growing.limit, 4, "1 doubled twice to cover 3.5")
    XCTAssertEqual(growing.counts.count, 64)
    XCTAssertEqual(growing.total, 1 + batches.map(\.count).reduce(0, +))
    var direct = StreamingHistogram(binCount: 64)
    direct.cover(4)
    direct.add(0)
    for value in batches.joined() { direct.add(value) }
    XCTAssertEqual(growing.counts, direct.counts, "merged bins equal bins made at the final range")
    XCTAssertEqual(growing.magnitudeCounts.reduce(0, +), growing.total)
  }

  // MARK: streaming properties

  func testRunsAreDeterministic() throws {
    let model = try Self.reluModel()
    for method in CalibrationMethod.allCases {
      var options = CalibrationOptions()
      options.method = method
      var first: CalibrationSource = SyntheticCalibrationSource(model: model, count: 6, seed: 4)
      var second: CalibrationSource = try CalibrationSources.make(spec: "synthetic:6", model: model)
      var third: CalibrationSource = SyntheticCalibrationSource(model: model, count: 6, seed: 4)
      let calibrator = try Calibrator(model: model, tensors: ["x", "r"], options: options)
      let a = try calibrator.run(&first)
      let b = try Calibrator(model: model, tensors: ["x", "r"], options: options).run(&third)
      XCTAssertTrue(a.statistics == b.statistics, "\(method)")
      for name in ["x", "r"] {
        let ra = try XCTUnwrap(a.range(of: name, type: .int8, symmetric: true))
        let rb = try XCTUnwrap(b.range(of: name, type: .int8, symmetric: true))
        XCTAssertEqual([ra.min, ra.max], [rb.min, rb.max], "\(method) \(name)")
      }
      let other = try calibrator.run(&second)
      XCTAssertFalse(a.statistics["x"] == other.statistics["x"], "seed 0 and seed 4 give other samples")
      XCTAssertEqual(other.observedRange(of: "r")?.min, 0)
    }
  }

  func testStatisticsDoNotGrowWithSamples() throws {
    let model = try Self.reluModel()
    var options = CalibrationOptions()
    options.method = .percentile
    let calibrator = try Calibrator(model: model, tensors: ["x", "r"], options: options)
    var sizes: [Int] = []
    for count in [1, 200] {
      var generator = NormalGenerator(seed: 2)
      var source: CalibrationSource = ClosureCalibrationSource(count: count) { index in
        Self.sample(rows: 1) { _ in Float(generator.next() * Double(1 + index % 7)) }
      }
      var reports: [CalibrationProgress] = []
      let result = try calibrator.run(&source) { reports.append($0) }
      XCTAssertEqual(result.samples, count)
      XCTAssertEqual(reports.map(\.done), Array(1...count))
      XCTAssertEqual(reports.last?.total, count)
      XCTAssertEqual(reports.last?.estimatedRemaining, 0)
      let histogram = try XCTUnwrap(result.statistics["x"]?.histogram)
      XCTAssertEqual(histogram.total, count * 256)
      sizes.append(histogram.counts.count)
    }
    XCTAssertEqual(sizes, [2 * options.histogramBins, 2 * options.histogramBins])
  }

  func testSampleLimitStopsEarly() throws {
    let model = try Self.reluModel()
    var source: CalibrationSource = ArrayCalibrationSource(Self.normalSamples(count: 10, seed: 1, rows: 1))
    var options = CalibrationOptions()
    options.maxSamples = 4
    var totals: [Int?] = []
    let result = try Calibrator(model: model, tensors: ["x"], options: options).run(&source) { totals.append($0.total) }
    XCTAssertEqual(result.samples, 4)
    XCTAssertEqual(totals, [4, 4, 4, 4])
    XCTAssertEqual(result.statistics["x"]?.count, 4 * 256)
  }

  // MARK: sources

  func testSyntheticSourceIsStandardNormalWithDynamicDimsOne() throws {
    let model = try Self.reluModel()
    var source = SyntheticCalibrationSource(model: model, count: 40)
    var values: [Float] = []
    while let sample = try source.nextSample() {
      XCTAssertEqual(sample["x"]?.shape, [1, 256])
      values += sample["x"]?.values(Float.self) ?? []
    }
    XCTAssertEqual(values.count, 40 * 256)
    let mean = values.reduce(0, +) / Float(values.count)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)
    XCTAssertEqual(mean, 0, accuracy: 0.05)
    XCTAssertEqual(variance, 1, accuracy: 0.05)
  }

  func testFolderSourceReadsArchivesAndTestDataFoldersAlike() throws {
    try TestSupport.requirePython()
    let model = try Self.reluModel()
    let folder = try TestSupport.temporaryDirectory(self)
    let script = TestSupport.root + "/Tests/interop/ort_calibration.py"
    for layout in ["npz", "test-data"] {
      let made = try TestSupport.run(
        TestSupport.python,
        [script, "samples", folder + "/" + layout, "--count", "12", "--shape", "3,256", "--layout", layout])
      XCTAssertEqual(made.status, 0, made.stderr)
    }
    var results: [CalibrationResult] = []
    for layout in ["npz", "test-data"] {
      var options = CalibrationOptions()
      options.method = .entropy
      let concrete = try FolderCalibrationSource(folder: folder + "/" + layout, model: model)
      XCTAssertEqual(concrete.sampleCount, 12)
      XCTAssertEqual(concrete.layout, layout == "npz" ? .archives : .testDataSets)
      var source: CalibrationSource = concrete
      results.append(try Calibrator(model: model, tensors: ["x", "r", "y"], options: options).run(&source))
    }
    XCTAssertEqual(results[0].samples, 12)
    XCTAssertTrue(results[0].statistics == results[1].statistics, "the same data in both layouts")
    XCTAssertEqual(results[0].observedRange(of: "x")?.max, 30, "the outliers of sample 5")
    XCTAssertEqual(results[0].observedRange(of: "r")?.min, 0)
    XCTAssertTrue(results[0].statistics["r"] == results[0].statistics["y"])
    // One test-data folder on its own is one sample.
    var single: CalibrationSource = try CalibrationSources.make(
      spec: folder + "/test-data/test_data_set_3", model: model)
    XCTAssertEqual(single.sampleCount, 1)
    XCTAssertEqual(try single.nextSample()?["x"]?.shape, [3, 256])
    XCTAssertNil(try single.nextSample())
  }

  func testBadCalibrationInputsAreNamed() throws {
    try TestSupport.requirePython()
    let model = try Self.reluModel()
    let folder = try TestSupport.temporaryDirectory(self)
    let script = TestSupport.root + "/Tests/interop/ort_calibration.py"
    func expectError(
      _ expected: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
    ) {
      XCTAssertThrowsError(try body(), file: file, line: line) { error in
        let message = (error as? ONNXQATError)?.description ?? "\(error)"
        for part in expected {
          XCTAssertTrue(message.contains(part), "'\(message)' should contain '\(part)'", file: file, line: line)
        }
      }
    }
    func calibrate(_ spec: String) throws {
      var source = try CalibrationSources.make(spec: spec, model: model)
      _ = try Calibrator(model: model, tensors: ["x"], options: CalibrationOptions()).run(&source)
    }
    let empty = folder + "/empty"
    try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
    expectError(["calibration folder \(empty) has no samples (.npz files or test_data_set_* folders)"]) {
      try calibrate(empty)
    }
    expectError(["calibration folder \(folder)/missing does not exist"]) { try calibrate(folder + "/missing") }
    for spec in ["synthetic:0", "synthetic:abc", "synthetic:-3"] {
      expectError(["calibration source '\(spec)'", "synthetic:N"]) { try calibrate(spec) }
    }
    let cases: [(String, [String], [String])] = [
      ("key", ["--input", "pixels"], ["sample_0000.npz", "tensor 'pixels' is not an input of the model"]),
      ("dtype", ["--dtype", "float64"], ["sample_0000.npz", "input 'x'", "expected element type float"]),
      ("shape", ["--shape", "2,255"], ["sample_0000.npz", "input 'x'", "expected 256 on axis 1"]),
      ("rank", ["--shape", "256"], ["sample_0000.npz", "input 'x'", "expected rank 2"]),
    ]
    for (name, arguments, expected) in cases {
      let made = try TestSupport.run(
        TestSupport.python,
        [script, "samples", folder + "/" + name, "--count", "2"]
          + (arguments.contains("--shape") ? [] : ["--shape", "2,256"])
          + arguments)
      XCTAssertEqual(made.status, 0, made.stderr)
      expectError([folder + "/" + name + "/"] + expected) { try calibrate(folder + "/" + name) }
    }
    // A test-data folder with more files than the model has inputs.
    let extra = folder + "/extra/test_data_set_0"
    try FileManager.default.createDirectory(atPath: extra, withIntermediateDirectories: true)
    try Data([0x08, 0x01]).write(to: URL(fileURLWithPath: extra + "/input_1.pb"))
    expectError(["input_1.pb", "the model has 1 input"]) { try calibrate(folder + "/extra") }
    // In-memory samples that do not fit name the sample number.
    expectError(["calibration sample 2", "input 'x'", "expected 256 on axis 1"]) {
      var source: CalibrationSource = ArrayCalibrationSource([
        Self.sample(rows: 1) { _ in 0 },
        ["x": HostTensor(.float, shape: [1, 3], values: [Float](repeating: 0, count: 3))],
      ])
      _ = try Calibrator(model: model, tensors: ["x"], options: CalibrationOptions()).run(&source)
    }
    expectError(["calibration source gave no samples"]) {
      var source: CalibrationSource = ArrayCalibrationSource([])
      _ = try Calibrator(model: model, tensors: ["x"], options: CalibrationOptions()).run(&source)
    }
    let strings = try RewriteTestSupport.model(
      """
      <ir_version: 8, opset_import: ["" : 13]>
      g (string[2] s) => (string[2] t) {
        t = Identity(s)
      }
      """)
    expectError(["synthetic calibration: input 's' is a string tensor"]) {
      var source = SyntheticCalibrationSource(model: strings, count: 2)
      _ = try source.nextSample()
    }
    expectError(["synthetic calibration needs a positive number of samples, got 0"]) {
      try SyntheticCalibrationSource(model: model, count: 0).validate()
    }
    expectError(["calibration tensor 'nope' is not a value of the main graph"]) {
      _ = try Calibrator(model: model, tensors: ["nope"], options: CalibrationOptions())
    }
    for (label, configure) in [
      ("percentile", { (o: inout CalibrationOptions) in o.percentile = 0 }),
      ("averaging constant", { (o: inout CalibrationOptions) in o.averagingConstant = 2 }),
      ("histogram bins", { (o: inout CalibrationOptions) in o.histogramBins = 101 }),
      ("sample limit", { (o: inout CalibrationOptions) in o.maxSamples = 0 }),
    ] {
      var options = CalibrationOptions()
      configure(&options)
      expectError(["calibration \(label)"]) { _ = try Calibrator(model: model, tensors: ["x"], options: options) }
    }
  }

  // MARK: onnxruntime

  /// Our calibration against onnxruntime's MinMax, Percentile, Entropy and Distribution
  /// calibrators and exact NumPy statistics, on the same model and samples. Min-max must match
  /// exactly; the histogram methods within the stated tolerances (the binning differs: onnxruntime
  /// bins all samples at once over the final range, we bin each sample as it comes).
  func testAgreesWithOnnxRuntimeCalibrators() throws {
    try TestSupport.requirePython()
    let model = try Self.reluModel()
    let folder = try TestSupport.temporaryDirectory(self)
    let script = TestSupport.root + "/Tests/interop/ort_calibration.py"
    let modelPath = folder + "/model.onnx"
    try ModelSaver.save(model, to: modelPath)
    let made = try TestSupport.run(
      TestSupport.python, [script, "samples", folder + "/samples", "--count", "30", "--shape", "4,256"])
    XCTAssertEqual(made.status, 0, made.stderr)
    let percentile = 99.9
    let constant = 0.1
    let reference = try TestSupport.run(
      TestSupport.python,
      [
        script, "calibrate", modelPath, folder + "/samples", "--percentile", String(percentile),
        "--averaging-constant", String(constant),
      ])
    XCTAssertEqual(reference.status, 0, reference.stderr)
    let json = try XCTUnwrap(
      try JSONSerialization.jsonObject(with: Data(reference.stdout.utf8)) as? [String: Any])
    let ort = try XCTUnwrap(json["ort"] as? [String: [String: [String: Any]]])
    let exact = try XCTUnwrap(json["exact"] as? [String: [String: Any]])
    func ortRange(_ config: String, _ tensor: String) throws -> (Double, Double) {
      let values = try XCTUnwrap(ort[config]?[tensor]?["range"] as? [Double], "\(config) \(tensor)")
      return (values[0], values[1])
    }
    func number(_ tensor: String, _ key: String) throws -> Double {
      try XCTUnwrap(exact[tensor]?[key] as? Double, "\(tensor) \(key)")
    }
    let tensors = ["x", "r", "y"]
    var results: [CalibrationMethod: CalibrationResult] = [:]
    for method in CalibrationMethod.allCases {
      var options = CalibrationOptions()
      options.method = method
      options.percentile = percentile
      options.movingAverage = method == .minmax
      options.averagingConstant = constant
      var source: CalibrationSource = try FolderCalibrationSource(folder: folder + "/samples", model: model)
      results[method] = try Calibrator(model: model, tensors: tensors, options: options).run(&source)
    }
    var report: [String] = []
    for tensor in tensors {
      let minmax = try XCTUnwrap(results[.minmax])
      let observed = try XCTUnwrap(minmax.observedRange(of: tensor))
      let (ortLow, ortHigh) = try ortRange("minmax", tensor)
      XCTAssertEqual(Double(observed.min), ortLow, "\(tensor): min-max min is exact")
      XCTAssertEqual(Double(observed.max), ortHigh, "\(tensor): min-max max is exact")
      let (ortSymLow, ortSymHigh) = try ortRange("minmax_symmetric", tensor)
      let plain = CalibrationResult(
        samples: minmax.samples, options: CalibrationOptions(), statistics: minmax.statistics)
      let unaveraged = try XCTUnwrap(plain.range(of: tensor, type: .int8, symmetric: true))
      XCTAssertEqual([Double(unaveraged.min), Double(unaveraged.max)], [ortSymLow, ortSymHigh], tensor)
      let ema = try XCTUnwrap(exact[tensor]?["ema"] as? [Double])
      let averaged = try XCTUnwrap(minmax.range(of: tensor, type: .uint8, symmetric: false))
      XCTAssertEqual(Double(averaged.min), ema[0], accuracy: 1e-5 * max(1, abs(ema[0])), tensor)
      XCTAssertEqual(Double(averaged.max), ema[1], accuracy: 1e-5 * max(1, abs(ema[1])), tensor)

      let statistics = try XCTUnwrap(results[.percentile]?.statistics[tensor])
      let width = try XCTUnwrap(statistics.histogram?.binWidth)
      XCTAssertEqual(try XCTUnwrap(statistics.mean), try number(tensor, "mean"), accuracy: 1e-6)
      XCTAssertEqual(try XCTUnwrap(statistics.standardDeviation), try number(tensor, "std"), accuracy: 1e-6)
      let distribution = try XCTUnwrap(ort["distribution"]?[tensor])
      let ortMean = try XCTUnwrap(distribution["avg"] as? Double)
      let ortStd = try XCTUnwrap(distribution["std"] as? Double)
      report.append(
        "\(tensor): mean \(statistics.mean ?? 0) (onnxruntime histogram \(ortMean)), std "
          + "\(statistics.standardDeviation ?? 0) (onnxruntime \(ortStd)); our bin width \(width)")

      // Percentile: within one of our bins of the order statistic where the cumulative count
      // reaches the fraction (NumPy's inverted_cdf); against onnxruntime (whose answer is the left
      // edge of the bin crossing the fraction in its own histogram) within two of our bins.
      let percentileResult = try XCTUnwrap(results[.percentile])
      let symmetricRange = try XCTUnwrap(percentileResult.range(of: tensor, type: .int8, symmetric: true))
      let numpyAbs = try number(tensor, "percentile_abs")
      XCTAssertEqual(Double(symmetricRange.max), numpyAbs, accuracy: width, "\(tensor) percentile |x|")
      let (_, ortAbs) = try ortRange("percentile_symmetric", tensor)
      XCTAssertEqual(Double(symmetricRange.max), ortAbs, accuracy: 2 * width, "\(tensor) vs onnxruntime")
      let asymmetricRange = try XCTUnwrap(percentileResult.range(of: tensor, type: .uint8, symmetric: false))
      let (numpyLow, numpyHigh) = (try number(tensor, "percentile_low"), try number(tensor, "percentile_high"))
      XCTAssertEqual(Double(asymmetricRange.min), numpyLow, accuracy: width, "\(tensor) low percentile")
      XCTAssertEqual(Double(asymmetricRange.max), numpyHigh, accuracy: width, "\(tensor) high percentile")
      let (ortPercentileLow, ortPercentileHigh) = try ortRange("percentile", tensor)
      XCTAssertEqual(Double(asymmetricRange.min), ortPercentileLow, accuracy: 2 * width, tensor)
      XCTAssertEqual(Double(asymmetricRange.max), ortPercentileHigh, accuracy: 2 * width, tensor)
      report.append(
        "\(tensor): percentile \(percentile) |x| \(symmetricRange.max) (numpy \(numpyAbs), onnxruntime \(ortAbs)); "
          + "x [\(asymmetricRange.min), \(asymmetricRange.max)] (numpy [\(numpyLow), \(numpyHigh)], onnxruntime "
          + "[\(ortPercentileLow), \(ortPercentileHigh)])")

      // Entropy: onnxruntime searches windows centred on 0 split into 256 levels; ours does the
      // same for a tensor of both signs, and searches one side with 256 levels for Relu outputs.
      let entropy = try XCTUnwrap(results[.entropy]?.range(of: tensor, type: .uint8, symmetric: false))
      let entropySymmetric = try XCTUnwrap(results[.entropy]?.range(of: tensor, type: .int8, symmetric: true))
      let (ortEntropyLow, ortEntropyHigh) = try ortRange("entropy", tensor)
      let maxAbs = Double(max(-observed.min, observed.max))
      if tensor == "x" {
        XCTAssertEqual(Double(entropy.max), ortEntropyHigh, accuracy: 8 * width, "entropy vs onnxruntime")
        XCTAssertEqual(Double(entropy.min), ortEntropyLow, accuracy: 8 * width, "entropy vs onnxruntime")
      }
      XCTAssertLessThan(Double(entropy.max), 0.5 * maxAbs, "\(tensor): entropy clips the outliers")
      report.append(
        "\(tensor): entropy uint8 [\(entropy.min), \(entropy.max)], int8 symmetric \(entropySymmetric.max) "
          + "(onnxruntime 256 levels [\(ortEntropyLow), \(ortEntropyHigh)])")
      let mse = try XCTUnwrap(results[.mse]?.range(of: tensor, type: .uint8, symmetric: false))
      let mseSymmetric = try XCTUnwrap(results[.mse]?.range(of: tensor, type: .int8Restricted, symmetric: true))
      report.append("\(tensor): mse uint8 [\(mse.min), \(mse.max)], int8 symmetric \(mseSymmetric.max)")
    }
    print("calibration cross-check:\n  " + report.joined(separator: "\n  "))
  }
}
