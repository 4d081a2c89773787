import Foundation

/// `count` made-up samples for models without data: every floating-point input filled with
/// standard normal values (Box-Muller over a SplitMix64 stream seeded by `seed` and the sample
/// index, so each sample is the same on every run and machine); integer and bool inputs are
/// zeros. Symbolic or unknown dimensions are 1.
///
/// Skip cases (errors, from `validate()` and `nextSample()`): 1. an input without a tensor type or
/// element type; 2. an input of unknown rank; 3. a string input; 4. a count that is not positive.
public struct SyntheticCalibrationSource: CalibrationSource {
  private let inputs: [(name: String, type: DataType, shape: [Int])]
  private let problem: ONNXQATError?
  private let count: Int
  private let seed: UInt64
  private var position = 0

  public init(model: Model, count: Int, seed: UInt64 = 0) {
    self.count = count
    self.seed = seed
    do {
      inputs = try Self.describeInputs(model)
      problem = count > 0 ? nil : .badArgument("synthetic calibration needs a positive number of samples, got \(count)")
    } catch {
      inputs = []
      problem = error as? ONNXQATError ?? .badArgument("synthetic calibration: \(error)")
    }
  }

  /// Throws when the model's inputs cannot be made up or the count is not positive.
  public func validate() throws {
    if let problem { throw problem }
  }

  /// Name, element type and shape (dynamic dimensions 1) of each input that is not an initializer.
  private static func describeInputs(_ model: Model) throws -> [(name: String, type: DataType, shape: [Int])] {
    let initializers = Set(model.graph.initializers.map { ObjectIdentifier($0) })
    var inputs: [(name: String, type: DataType, shape: [Int])] = []
    for value in model.graph.inputs where !initializers.contains(ObjectIdentifier(value)) {
      guard let tensorType = value.type?.tensorType, let element = tensorType.elementType else {
        // skip case 1
        throw ONNXQATError.badArgument("synthetic calibration: input '\(value.name)' has no tensor element type")
      }
      guard let dims = tensorType.shape?.dims else {
        // skip case 2
        throw ONNXQATError.badArgument("synthetic calibration: input '\(value.name)' has unknown rank")
      }
      guard element != .string else {
        // skip case 3
        throw ONNXQATError.badArgument("synthetic calibration: input '\(value.name)' is a string tensor")
      }
      let shape = dims.map { dimension -> Int in
        if case .known(let size) = dimension.size { return Int(size) }
        return 1
      }
      inputs.append((value.name, element, shape))
    }
    return inputs
  }

  public var sampleCount: Int? { Swift.max(count, 0) }

  public mutating func nextSample() throws -> [String: HostTensor]? {
    try validate()  // skip cases 1-4
    guard position < count else { return nil }
    defer { position += 1 }
    var generator = NormalGenerator(seed: seed &+ UInt64(position) &* 0x9E37_79B9_7F4A_7C15)
    var sample: [String: HostTensor] = [:]
    for input in inputs {
      let elements = input.shape.reduce(1, *)
      switch input.type {
      case .float:
        sample[input.name] = HostTensor(
          .float, shape: input.shape,
          values: (0..<elements).map { _ in
            Float(generator.next())
          })
      case .double:
        sample[input.name] = HostTensor(
          .double, shape: input.shape,
          values: (0..<elements).map { _ in
            generator.next()
          })
      case .float16:
        sample[input.name] = HostTensor(
          .float16, shape: input.shape,
          values: (0..<elements).map { _ in
            FloatBits.floatToFloat16(Float(generator.next()))
          })
      case .bfloat16:
        sample[input.name] = HostTensor(
          .bfloat16, shape: input.shape,
          values: (0..<elements).map { _ in
            FloatBits.floatToBFloat16(Float(generator.next()))
          })
      default:
        sample[input.name] = HostTensor(zeros: input.type, shape: input.shape)
      }
    }
    return sample
  }
}

/// Standard normal numbers from SplitMix64 through the Box-Muller transform.
struct NormalGenerator {
  private var state: UInt64
  private var spare: Double?

  init(seed: UInt64) { state = seed }

  /// The next 64 random bits (SplitMix64).
  mutating func nextBits() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform number in (0, 1).
  mutating func uniform() -> Double { (Double(nextBits() >> 11) + 0.5) / 9_007_199_254_740_992 }

  /// A standard normal number.
  mutating func next() -> Double {
    if let spare {
      self.spare = nil
      return spare
    }
    let radius = (-2 * Foundation.log(uniform())).squareRoot()
    let angle = 2 * Double.pi * uniform()
    spare = radius * Foundation.sin(angle)
    return radius * Foundation.cos(angle)
  }
}
