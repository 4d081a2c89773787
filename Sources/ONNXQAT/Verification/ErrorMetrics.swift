import Foundation

/// How far one output of a model departs from a reference output, accumulated over samples:
/// SNR in dB (`10 log10(sum r^2 / sum (r - x)^2)`, infinite when equal), cosine similarity
/// (`sum r x / (|r| |x|)`), and the largest absolute difference. Memory is constant in the number
/// of samples.
public struct ErrorMetrics: Codable, Equatable, Sendable {
  public var output: String
  public var samples = 0
  public var elements = 0
  private var signal = 0.0
  private var noise = 0.0
  private var dot = 0.0
  private var referenceNorm = 0.0
  private var actualNorm = 0.0
  public private(set) var maxAbsError = 0.0

  public init(output: String) { self.output = output }

  /// Adds one sample's outputs (same shape; compared as doubles).
  public mutating func add(reference: HostTensor, actual: HostTensor) {
    samples += 1
    let count = min(reference.count, actual.count)
    elements += count
    for index in 0..<count {
      let r = reference.element(at: index)
      let x = actual.element(at: index)
      guard r.isFinite, x.isFinite else { continue }
      signal += r * r
      noise += (r - x) * (r - x)
      dot += r * x
      referenceNorm += r * r
      actualNorm += x * x
      maxAbsError = max(maxAbsError, abs(r - x))
    }
  }

  /// Signal-to-noise ratio in dB; `infinity` when the outputs are equal.
  public var snrDecibels: Double {
    if noise == 0 { return .infinity }
    if signal == 0 { return -.infinity }
    return 10 * log10(signal / noise)
  }

  /// Cosine similarity; 1 when both are zero.
  public var cosine: Double {
    let norms = (referenceNorm * actualNorm).squareRoot()
    return norms == 0 ? (referenceNorm == actualNorm ? 1 : 0) : dot / norms
  }

  enum CodingKeys: String, CodingKey { case output, samples, elements, snrDb, cosine, maxAbsError }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(output, forKey: .output)
    try container.encode(samples, forKey: .samples)
    try container.encode(elements, forKey: .elements)
    // JSON has no infinity: an exact match is reported as null SNR.
    if snrDecibels.isFinite {
      try container.encode(snrDecibels, forKey: .snrDb)
    } else {
      try container.encodeNil(forKey: .snrDb)
    }
    try container.encode(cosine, forKey: .cosine)
    try container.encode(maxAbsError, forKey: .maxAbsError)
  }

  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    output = try container.decode(String.self, forKey: .output)
    samples = try container.decode(Int.self, forKey: .samples)
    elements = try container.decode(Int.self, forKey: .elements)
    maxAbsError = try container.decode(Double.self, forKey: .maxAbsError)
  }
}
