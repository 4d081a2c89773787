@testable import ONNXQAT

/// Deterministic pseudo-random floats in [-1, 1) (a 64-bit linear congruential generator, the
/// thousandths of its top bits) and float tensors filled with them, for kernel tests that need
/// the same operands on every run.
struct SeededFloats {
  var state: UInt64

  /// The next float in [-1, 1), in steps of 1/1000.
  mutating func next() -> Float {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return Float(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000
  }

  /// A float tensor of `shape` filled with `scale` times the next floats.
  mutating func tensor(_ shape: [Int], scale: Float = 1) -> HostTensor {
    HostTensor(.float, shape: shape, values: (0..<shape.reduce(1, *)).map { _ in scale * next() })
  }
}
