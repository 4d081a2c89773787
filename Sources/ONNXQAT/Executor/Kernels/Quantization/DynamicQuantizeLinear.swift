import Foundation

/// DynamicQuantizeLinear (opset 11): computes a uint8 scale and zero point from the data and
/// quantizes it.
///
/// `rmin = min(0, min(x))`, `rmax = max(0, max(x))`, `scale = (rmax - rmin) / 255`,
/// `zp = roundHalfToEven(clamp(0 - rmin / scale, 0, 255))`,
/// `y = clamp(roundHalfToEven(x / scale) + zp, 0, 255)`, all in Float as onnx's reference does;
/// when `rmax == rmin` the numerator is 1 (so scale = 1/255).
enum DynamicQuantizeLinearKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let x = try context.input(0)
    guard x.dataType == .float else { throw context.failure("expected a float input, got \(x.typeDescription)") }
    let values = x.pointer(Float.self)
    let count = x.count
    var low: Float = 0
    var high: Float = 0
    for i in 0..<count {
      low = Swift.min(low, values[i])
      high = Swift.max(high, values[i])
    }
    let scale: Float = (high == low ? 1 : high - low) / 255
    let initial = 0 - low / scale
    // NaN (from infinite inputs) becomes 0.
    let zeroPoint = (initial >= 0 ? Swift.min(255, initial) : 0).rounded(.toNearestOrEven)
    let y = HostTensor(zeros: .uint8, shape: x.shape)
    let out = y.pointer(UInt8.self)
    for i in 0..<count {
      let q = (values[i] / scale).rounded(.toNearestOrEven) + zeroPoint
      out[i] = q >= 0 ? UInt8(Swift.min(255, q)) : 0
    }
    return [
      y, HostTensor(.float, shape: [], values: [scale]), HostTensor(.uint8, shape: [], values: [UInt8(zeroPoint)]),
    ]
  }
}
