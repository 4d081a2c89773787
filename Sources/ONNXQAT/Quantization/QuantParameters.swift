import Foundation

/// Scale and zero point of a quantized tensor: one pair (per tensor), one per channel along
/// `axis`, or one per block of `blockSize` elements along `axis`.
///
/// Maths (DESIGN.md section 4): the range always includes 0. Asymmetric:
/// `scale = (rmax - rmin) / (qmax - qmin)`, `zeroPoint = qmin - round(rmin / scale)`.
/// Symmetric: `rmax = max(|rmin|, |rmax|)`, `scale = 2 rmax / (qmax - qmin)`, zero point the
/// middle of the range (0 for signed types). A zero range gives scale 1 and the zero point that
/// represents 0, and is flagged so that reports can name the tensor.
public struct QuantParameters: Equatable, Sendable {
  public var type: QuantType
  public var scales: [Float]
  public var zeroPoints: [Int32]
  public var axis: Int?
  public var blockSize: Int?
  /// The shape of the scale and zero-point tensors for blocked parameters (the input's shape with
  /// the blocked axis divided by the block size, rounded up); nil for per-tensor and per-axis.
  public var blockedShape: [Int]?
  /// True when some channel's range was empty (all zeros, or min == max == 0).
  public var hadZeroRange = false

  public init(type: QuantType, scales: [Float], zeroPoints: [Int32], axis: Int? = nil, blockSize: Int? = nil) {
    self.type = type
    self.scales = scales
    self.zeroPoints = zeroPoints
    self.axis = axis
    self.blockSize = blockSize
  }

  /// Parameters for one range.
  public static func fromRange(min rmin: Float, max rmax: Float, type: QuantType, symmetric: Bool) -> QuantParameters {
    let (scale, zeroPoint, empty) = scaleAndZeroPoint(min: rmin, max: rmax, type: type, symmetric: symmetric)
    var parameters = QuantParameters(type: type, scales: [scale], zeroPoints: [zeroPoint])
    parameters.hadZeroRange = empty
    return parameters
  }

  /// Parameters for one range per channel (or block) along `axis`.
  public static func fromRanges(
    mins: [Float], maxs: [Float], type: QuantType, symmetric: Bool, axis: Int, blockSize: Int? = nil
  ) -> QuantParameters {
    var parameters = QuantParameters(type: type, scales: [], zeroPoints: [], axis: axis, blockSize: blockSize)
    for (low, high) in zip(mins, maxs) {
      let (scale, zeroPoint, empty) = scaleAndZeroPoint(min: low, max: high, type: type, symmetric: symmetric)
      parameters.scales.append(scale)
      parameters.zeroPoints.append(zeroPoint)
      parameters.hadZeroRange = parameters.hadZeroRange || empty
    }
    return parameters
  }

  static func scaleAndZeroPoint(min rmin: Float, max rmax: Float, type: QuantType, symmetric: Bool)
    -> (Float, Int32, Bool)
  {
    var low = Double(Swift.min(rmin, 0))
    var high = Double(Swift.max(rmax, 0))
    let qmin = Double(type.qmin)
    let qmax = Double(type.qmax)
    if symmetric {
      let bound = Swift.max(abs(low), abs(high))
      low = -bound
      high = bound
    }
    let middle = Int32(((qmin + qmax) / 2).rounded(.toNearestOrEven))
    let symmetricZero = type.isSigned ? 0 : middle
    guard high > low, low.isFinite, high.isFinite else {
      return (1, symmetric ? symmetricZero : clamp(0, type), true)
    }
    let scale = Float((high - low) / (qmax - qmin))
    guard scale > 0, scale.isFinite else { return (1, symmetric ? symmetricZero : clamp(0, type), true) }
    if symmetric { return (scale, symmetricZero, false) }
    let zeroPoint = (qmin - low / Double(scale)).rounded(.toNearestOrEven)
    return (scale, clamp(Int64(zeroPoint), type), false)
  }

  private static func clamp(_ value: Int64, _ type: QuantType) -> Int32 {
    Int32(Swift.min(Swift.max(value, Int64(type.qmin)), Int64(type.qmax)))
  }

  /// Whether this is a single scale and zero point.
  public var isPerTensor: Bool { axis == nil && scales.count == 1 }

  /// The scale tensor as written into a model: a scalar per tensor, 1-D per channel.
  public func scaleTensor(name: String?) -> Tensor {
    HostTensor(.float, shape: parameterShape, values: scales).irTensor(name: name)
  }

  /// The shape of the scale and zero-point tensors.
  public var parameterShape: [Int] { blockedShape ?? (isPerTensor ? [] : [scales.count]) }

  /// The zero-point tensor in the quantized type, shaped like the scale tensor.
  public func zeroPointTensor(name: String?) -> Tensor {
    QuantizedValues.tensor(zeroPoints, type: type.dataType, shape: parameterShape).irTensor(name: name)
  }

}
