import Foundation

/// com.microsoft QLinearAdd and QLinearMul (onnxruntime contrib ops, version 1) on int8/uint8
/// tensors with NumPy broadcasting; the zero points are optional (0).
///
/// QLinearAdd in `float` mode reproduces onnxruntime's AVX2 kernel (MlasQLinearAdd{S8,U8}KernelAvx2,
/// onnxruntime/core/mlas/lib/x86_64/QLinearBinaryOpKernelAvx2.S):
/// `c = clamp(roundHalfToEven((Float(a - za) * sa + Float(b - zb) * sb) / sc) + zc)`; in
/// `fixed-point` mode it follows TFLite's integer Add: both inputs shifted left by 20 bits and
/// scaled by Q31 multipliers `s / (2 * max(sa, sb))`, summed, then scaled by
/// `2 * max(sa, sb) / (2^20 * sc)`, offset and clamped.
/// QLinearMul reproduces MLAS's SSE2 kernel (qlmul.cpp):
/// `c = clamp(roundHalfToEven(Float(a - za) * Float(b - zb) * (sa * sb / sc)) + zc)`, which is the
/// Requantizer applied to the exact int32 product `(a - za) * (b - zb)`; in fixed-point mode that
/// product goes through TFLite's multiply-and-shift with multiplier `sa * sb / sc`.
enum QLinearBinaryKernel {
  enum Operation { case add, mul }

  static func run(_ context: KernelContext, _ operation: Operation) throws -> [HostTensor?] {
    let a = try context.input(0)
    let b = try context.input(3)
    guard a.dataType == b.dataType, a.dataType == .uint8 || a.dataType == .int8 else {
      throw context.failure(
        "expected A and B both int8 or both uint8, got \(a.typeDescription) and \(b.typeDescription)")
    }
    let sa = try QLinearMatMulKernel.scales(try context.input(1), count: 1, name: "A_scale", context: context)[0]
    let sb = try QLinearMatMulKernel.scales(try context.input(4), count: 1, name: "B_scale", context: context)[0]
    let sc = try QLinearMatMulKernel.scales(try context.input(6), count: 1, name: "C_scale", context: context)[0]
    let za = try MatMulIntegerKernel.zeroPoints(
      context.optionalInput(2), count: 1, name: "A_zero_point", context: context)[0]
    let zb = try MatMulIntegerKernel.zeroPoints(
      context.optionalInput(5), count: 1, name: "B_zero_point", context: context)[0]
    let zc = try MatMulIntegerKernel.zeroPoints(
      context.optionalInput(7), count: 1, name: "C_zero_point", context: context)[0]
    guard let range = QuantizedValues.range(a.dataType) else { throw context.failure("unsupported type") }
    let shape = try Broadcast.shape([a.shape, b.shape])
    let count = shape.reduce(1, *)
    var aIndex: [Int] = []
    var bIndex: [Int] = []
    let same = a.shape == b.shape
    if !same {
      aIndex.reserveCapacity(count)
      bIndex.reserveCapacity(count)
      Broadcast.forEach(shape, operands: [a.shape, b.shape]) { _, offsets in
        aIndex.append(offsets[0])
        bIndex.append(offsets[1])
      }
    }
    if operation == .add, same, context.interpreter.options.requantization == .float {
      let output = HostTensor(uninitialized: a.dataType, shape: shape)
      if a.dataType == .uint8 {
        addSameShape(
          a.pointer(UInt8.self), b.pointer(UInt8.self), count: count, scales: (sa, sb, sc), zeroPoints: (za, zb, zc),
          range: range, into: output.pointer(UInt8.self))
      } else {
        addSameShape(
          a.pointer(Int8.self), b.pointer(Int8.self), count: count, scales: (sa, sb, sc), zeroPoints: (za, zb, zc),
          range: range, into: output.pointer(Int8.self))
      }
      return [output]
    }
    guard let aValues = QuantizedValues.int32s(a), let bValues = QuantizedValues.int32s(b) else {
      throw context.failure("expected A and B both int8 or both uint8")
    }
    var result = [Int32](repeating: 0, count: count)
    switch operation {
    case .add where context.interpreter.options.requantization == .fixedPoint:
      let twiceMaximum = 2 * Double(Swift.max(sa, sb))
      let (m1, s1) = Requantizer.quantizeMultiplier(Double(sa) / twiceMaximum)
      let (m2, s2) = Requantizer.quantizeMultiplier(Double(sb) / twiceMaximum)
      let (mo, so) = Requantizer.quantizeMultiplier(twiceMaximum / (Double(1 << 20) * Double(sc)))
      for i in 0..<count {
        let av = same ? aValues[i] : aValues[aIndex[i]]
        let bv = same ? bValues[i] : bValues[bIndex[i]]
        let x1 = Requantizer.multiplyByQuantizedMultiplier((av &- za) &* (1 << 20), m1, s1)
        let x2 = Requantizer.multiplyByQuantizedMultiplier((bv &- zb) &* (1 << 20), m2, s2)
        let sum = Int64(Requantizer.multiplyByQuantizedMultiplier(x1 &+ x2, mo, so)) + Int64(zc)
        result[i] = Int32(Swift.min(Swift.max(sum, Int64(range.lowerBound)), Int64(range.upperBound)))
      }
    case .add:
      let low = range.lowerBound &- zc
      let high = range.upperBound &- zc
      for i in 0..<count {
        let av = same ? aValues[i] : aValues[aIndex[i]]
        let bv = same ? bValues[i] : bValues[bIndex[i]]
        let sum = Float(av &- za) * sa + Float(bv &- zb) * sb
        let q = (sum / sc).rounded(.toNearestOrEven)
        let clamped = Requantizer.clampRound(q, Float(low), Float(high))
        result[i] = clamped &+ zc
      }
    case .mul:
      var products = [Int32](repeating: 0, count: count)
      for i in 0..<count {
        let av = same ? aValues[i] : aValues[aIndex[i]]
        let bv = same ? bValues[i] : bValues[bIndex[i]]
        products[i] = (av &- za) &* (bv &- zb)
      }
      let requantizer = Requantizer(
        mode: context.interpreter.options.requantization, inputScale: sa, weightScales: [sb], outputScale: sc,
        zeroPoint: zc, range: range)
      products.withUnsafeBufferPointer { source in
        result.withUnsafeMutableBufferPointer { target in
          guard let s = source.baseAddress, let t = target.baseAddress else { return }
          requantizer.requantize(s, count: count, channel: 0, into: t)
        }
      }
    }
    return [QuantizedValues.tensor(result, type: a.dataType, shape: shape)]
  }
}
