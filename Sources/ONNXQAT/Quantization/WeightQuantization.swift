import Foundation

/// Quantizing a constant float tensor: one range per tensor, per channel along an axis, or per
/// block of `blockSize` elements along an axis; then `q = saturate(round(w / s) + zp)` in
/// float32, rounding half to even, exactly as QuantizeLinear computes it (so a weight stored as
/// integers behind DequantizeLinear equals the same weight behind QuantizeLinear ->
/// DequantizeLinear).
enum WeightQuantization {
  /// Where each element's scale lives, for a tensor of `shape`.
  struct Layout {
    let outer: Int
    let size: Int
    let inner: Int
    let blockSize: Int?
    let parameterCount: Int
    let parameterShape: [Int]?

    init(shape: [Int], axis: Int?, blockSize: Int?) {
      guard let axis, axis < shape.count else {
        outer = 1
        size = 1
        inner = shape.reduce(1, *)
        self.blockSize = nil
        parameterCount = 1
        parameterShape = nil
        return
      }
      outer = shape[..<axis].reduce(1, *)
      size = shape[axis]
      inner = shape[(axis + 1)...].reduce(1, *)
      self.blockSize = blockSize
      if let blockSize {
        let blocks = (size + blockSize - 1) / blockSize
        parameterCount = outer * blocks * inner
        var blocked = shape
        blocked[axis] = blocks
        parameterShape = blocked
      } else {
        parameterCount = size
        parameterShape = nil
      }
    }

    /// The parameter index of flat element `index`.
    func parameter(_ index: Int) -> Int {
      if parameterCount == 1 { return 0 }
      let position = (index / inner) % size
      guard let blockSize else { return position }
      let blocks = (size + blockSize - 1) / blockSize
      return ((index / (size * inner)) * blocks + position / blockSize) * inner + index % inner
    }
  }

  /// Parameters for `values` of `shape`: symmetric or not, per tensor (axis nil), per channel, or
  /// blocked (axis and blockSize).
  static func parameters(
    _ values: [Float], shape: [Int], type: QuantType, symmetric: Bool, axis: Int?, blockSize: Int?
  ) -> QuantParameters {
    let layout = Layout(shape: shape, axis: axis, blockSize: blockSize)
    var mins = [Float](repeating: 0, count: layout.parameterCount)
    var maxs = [Float](repeating: 0, count: layout.parameterCount)
    for (index, value) in values.enumerated() where value.isFinite {
      let p = layout.parameter(index)
      mins[p] = min(mins[p], value)
      maxs[p] = max(maxs[p], value)
    }
    guard let axis, layout.parameterCount > 1 || blockSize != nil else {
      return QuantParameters.fromRange(min: mins[0], max: maxs[0], type: type, symmetric: symmetric)
    }
    var parameters = QuantParameters.fromRanges(
      mins: mins, maxs: maxs, type: type, symmetric: symmetric, axis: axis, blockSize: blockSize)
    parameters.blockedShape = layout.parameterShape
    return parameters
  }

  /// The integer values of `values` under `parameters`, as a tensor of the quantized type.
  static func quantize(_ values: [Float], shape: [Int], _ parameters: QuantParameters) -> HostTensor {
    let layout = Layout(shape: shape, axis: parameters.axis, blockSize: parameters.blockSize)
    let low = Float(parameters.type.qmin)
    let high = Float(parameters.type.qmax)
    let quantized = values.enumerated().map { index, value -> Int32 in
      let p = layout.parameter(index)
      let q = (value / parameters.scales[p]).rounded(.toNearestOrEven) + Float(parameters.zeroPoints[p])
      return Int32(min(max(q.isNaN ? 0 : q, low), high))
    }
    return QuantizedValues.tensor(quantized, type: parameters.type.dataType, shape: shape)
  }

}
