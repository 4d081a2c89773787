import Foundation

/// A Relu or Clip between an op and its QuantizeLinear, moved into the integer domain.
///
/// Quantization is monotone, so `Q(clip(y, lo, hi)) = clip(Q(y), Q(lo), Q(hi))` exactly. The
/// clamp is redundant when `Q(lo) <= qmin` and `Q(hi) >= qmax` (a Relu before an output whose
/// zero point is its type's minimum); otherwise it becomes an integer `Clip` with the quantized
/// bounds.
enum IntegerClamp {
  /// The integer bounds the clamp needs, nil when it is redundant, or why it cannot be moved.
  static func bounds(_ clamp: Node, output: QDQParameters, model: Model) -> Result<(Int32, Int32)?, LoweringRefusal> {
    guard output.isPerTensor, let range = QuantizedValues.range(output.type) else {
      return .failure(.init("the output of \(clamp.label) is not quantized per tensor"))
    }
    var low = -Float.infinity
    var high = Float.infinity
    if clamp.opType == "Relu" {
      low = 0
    } else {
      if case .float(let value)? = clamp.attribute("min")?.value { low = value }
      if case .float(let value)? = clamp.attribute("max")?.value { high = value }
      for (index, isLow) in [(1, true), (2, false)] {
        guard let bound = clamp.input(index) else { continue }
        guard let values = bound.constantFloats(in: model)?.values, values.count == 1 else {
          return .failure(.init("bound '\(bound.name)' of \(clamp.label) is not a constant scalar"))
        }
        if isLow { low = values[0] } else { high = values[0] }
      }
    }
    func quantize(_ value: Float) -> Int32 {
      guard value.isFinite else { return value < 0 ? range.lowerBound : range.upperBound }
      let q = (value / output.scales[0]).rounded(.toNearestOrEven) + Float(output.zeroPoints[0])
      return Int32(min(max(q, Float(range.lowerBound)), Float(range.upperBound)))
    }
    let (lo, hi) = (quantize(low), quantize(high))
    if lo <= range.lowerBound && hi >= range.upperBound { return .success(nil) }
    return .success((lo, hi))
  }

  /// Appends `Clip(value, lo, hi)` on integers when `bounds` is not nil; returns the clamped value.
  static func apply(_ bounds: (Int32, Int32)?, to value: Value, type: DataType, rewriter: Rewriter, clamp: Node?)
    throws -> Value
  {
    guard let (lo, hi) = bounds else { return value }
    let low = try rewriter.addConstant(
      value.name + "_min", QuantizedValues.tensor([lo], type: type, shape: []).irTensor(name: nil))
    let high = try rewriter.addConstant(
      value.name + "_max", QuantizedValues.tensor([hi], type: type, shape: []).irTensor(name: nil))
    let name = clamp.map { $0.name.isEmpty ? "" : $0.name + "_int" } ?? ""
    let clip = try rewriter.insertNode(
      "Clip", name: name, inputs: [value, low, high], outputBases: [value.name + "_clamped"])
    guard let output = clip.output else { return value }
    return output
  }
}
