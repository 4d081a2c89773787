import Foundation

/// A stream of calibration samples: each sample maps graph input names to tensors. Sources hand
/// out one sample at a time so that a run never holds more than one in memory.
public protocol CalibrationSource {
  /// The number of samples, when known in advance (for progress reports).
  var sampleCount: Int? { get }
  /// The next sample, or nil at the end.
  mutating func nextSample() throws -> [String: HostTensor]?
  /// Throws when the consumer should stop before using a sample it already read (a cancelled
  /// session): runs that read two samples ahead call it before taking each one's result.
  func checkContinue() throws
}

extension CalibrationSource {
  /// Sources that cannot be cancelled always continue.
  public func checkContinue() throws {}
}

/// Samples held in memory, in order.
public struct ArrayCalibrationSource: CalibrationSource {
  private let samples: [[String: HostTensor]]
  private var position = 0

  public init(_ samples: [[String: HostTensor]]) { self.samples = samples }

  public var sampleCount: Int? { samples.count }

  public mutating func nextSample() throws -> [String: HostTensor]? {
    guard position < samples.count else { return nil }
    defer { position += 1 }
    return samples[position]
  }
}

/// Samples made on demand by a closure called with the sample index 0, 1, ..., `count - 1`.
public struct ClosureCalibrationSource: CalibrationSource {
  private let count: Int
  private let next: (Int) throws -> [String: HostTensor]
  private var position = 0

  public init(count: Int, next: @escaping (Int) throws -> [String: HostTensor]) {
    self.count = count
    self.next = next
  }

  public var sampleCount: Int? { count }

  public mutating func nextSample() throws -> [String: HostTensor]? {
    guard position < count else { return nil }
    defer { position += 1 }
    return try next(position)
  }
}
