import Foundation

/// Clip `y = min(max(x, min), max)` (so min > max gives max everywhere; NaN stays NaN).
/// Opsets 1-10: `min` and `max` are float attributes (default: the lowest and largest float).
/// Opset 11 on: optional scalar inputs 1 `min` and 2 `max` of x's type (default: no bound);
/// opset 12 on also integer types.
enum ElementwiseClip {
  /// `min(max(x, low), high)` on float32 (a fused Conv epilogue clips through this too).
  @inline(__always)
  static func clamp(_ x: Float, low: Float, high: Float) -> Float { Swift.min(Swift.max(x, low), high) }

  static func register(_ registry: inout KernelRegistry) {
    registry.register("Clip") { context in
      let x = try context.input(0)
      let type = x.dataType
      var low: HostTensor?
      var high: HostTensor?
      if context.opsetVersion < 11 {
        if let value = context.float("min") {
          low = try ElementwiseCast.convert(.scalar(value), to: type, saturate: true)
        }
        if let value = context.float("max") {
          high = try ElementwiseCast.convert(.scalar(value), to: type, saturate: true)
        }
      } else {
        low = context.optionalInput(1)
        high = context.optionalInput(2)
        for (index, bound) in [(1, low), (2, high)] {
          guard let bound else { continue }
          guard bound.dataType == type else {
            throw context.failure(
              "input \(index) has element type \(bound.dataType.name); expected \(type.name) like input 0")
          }
          guard bound.count == 1 else {
            throw context.failure("input \(index) has shape \(bound.shape); expected a scalar")
          }
        }
      }
      switch type {
      case .float:
        let lo = low.map(ElementwiseSupport.firstFloat) ?? -.infinity
        let hi = high.map(ElementwiseSupport.firstFloat) ?? .infinity
        return [ElementwiseSupport.map(x, Float.self, into: .float) { clamp($0, low: lo, high: hi) }]
      case .double:
        let lo = low.map { $0.element(at: 0) } ?? -.infinity
        let hi = high.map { $0.element(at: 0) } ?? .infinity
        return [ElementwiseSupport.map(x, Double.self, into: .double) { Swift.min(Swift.max($0, lo), hi) }]
      case .float16, .bfloat16:
        let lo = low.map { ElementwiseSupport.firstFloat($0) } ?? -.infinity
        let hi = high.map { ElementwiseSupport.firstFloat($0) } ?? .infinity
        let wide = ElementwiseSupport.map(ElementwiseSupport.toFloat(x), Float.self, into: .float) {
          Swift.min(Swift.max($0, lo), hi)
        }
        return [ElementwiseSupport.fromFloat(wide, to: type)]
      case .uint64:
        let lo = low.map { UInt64(bitPattern: ElementwiseSupport.firstInt64($0)) } ?? .min
        let hi = high.map { UInt64(bitPattern: ElementwiseSupport.firstInt64($0)) } ?? .max
        return [ElementwiseSupport.map(x, UInt64.self, into: .uint64) { Swift.min(Swift.max($0, lo), hi) }]
      default:
        guard ElementwiseSupport.integerTypes.contains(type) else {
          throw ElementwiseSupport.unsupported(context, type, expected: "a numeric type")
        }
        let lo = low.map { ElementwiseSupport.firstInt64($0) } ?? .min
        let hi = high.map { ElementwiseSupport.firstInt64($0) } ?? .max
        let wide = ElementwiseSupport.map(ElementwiseSupport.widen(x), Int64.self, into: .int64) {
          Swift.min(Swift.max($0, lo), hi)
        }
        return [ElementwiseSupport.narrow(wide, to: type)]
      }
    }
  }
}
