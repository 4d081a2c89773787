import Foundation

/// com.microsoft QLinearSoftmax (onnxruntime contrib op, version 1) on int8/uint8, as
/// onnxruntime computes it (qlinear_softmax.cc): a 256-entry Float table
/// `exp((i - 255 + shift) * x_scale)` (Double, rounded to Float) with
/// `shift = max(0, log(FLT_MAX / D) - 5) / x_scale`; per softmax row the table is indexed
/// relative to the row's maximum, `sum` accumulated in Float in order, and
/// `y = nearbyint(t * floor(1 / y_scale) / sum) + y_zp`, saturated at 255 (for int8 onnxruntime
/// then truncates to 8 bits, which this kernel reproduces). The x zero point is unused
/// (softmax is shift-invariant). Attributes `opset` (required: below 13 the input is flattened
/// from `axis` on, default axis 1; from 13 on a single axis, default -1) and `axis`.
enum QLinearSoftmaxKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let x = try context.input(0)
    guard x.dataType == .int8 || x.dataType == .uint8, x.rank >= 1 else {
      throw context.failure("expected an int8 or uint8 input, got \(x.typeDescription)")
    }
    guard let opset = context.int("opset") else { throw context.failure("the opset attribute is required") }
    let xScale = try QLinearMatMulKernel.scales(try context.input(1), count: 1, name: "X_scale", context: context)[0]
    let yScale = try QLinearMatMulKernel.scales(try context.input(3), count: 1, name: "y_scale", context: context)[0]
    let yZero = try MatMulIntegerKernel.zeroPoints(
      context.optionalInput(4), count: 1, name: "y_zero_point", context: context)[0]
    var axis = context.int("axis") ?? (opset < 13 ? 1 : -1)
    if axis < 0 { axis += x.rank }
    guard axis >= 0 && axis < x.rank else { throw context.failure("axis \(axis) is out of range for rank \(x.rank)") }
    let outer = x.shape[..<axis].reduce(1, *)
    let (length, inner) =
      opset < 13 ? (x.shape[axis...].reduce(1, *), 1) : (x.shape[axis], x.shape[(axis + 1)...].reduce(1, *))
    guard length > 0, x.count > 0 else { return [HostTensor(zeros: x.dataType, shape: x.shape)] }
    let signed = x.dataType == .int8
    var shift = Double(log(Double(Float.greatestFiniteMagnitude / Float(length))))
    shift = Swift.max(0, shift - 5) / Double(xScale)
    var table = [Float](repeating: 0, count: 256)
    for i in 0..<256 {
      let value = exp((Double(i) - 255 + shift) * Double(xScale))
      table[Int(UInt8(truncatingIfNeeded: signed ? i - 128 : i))] = Float(value)
    }
    let outputScale = (1 / yScale).rounded(.down)
    let codes = QuantizedValues.int32s(x) ?? []
    var result = [Int32](repeating: 0, count: x.count)
    var indices = [Int](repeating: 0, count: length)
    for o in 0..<outer {
      for i in 0..<inner {
        let base = o * length * inner + i
        var maximum = Int32.min
        for j in 0..<length { maximum = Swift.max(maximum, codes[base + j * inner]) }
        // uint8: table shifted by 255 - max; int8: index uint8(127 - max + x).
        for j in 0..<length {
          let code = codes[base + j * inner]
          indices[j] = signed ? Int(UInt8(truncatingIfNeeded: 127 - maximum + code)) : Int(255 - maximum + code)
        }
        var sum: Float = 0
        for j in 0..<length { sum += table[indices[j]] }
        guard sum != 0 else { continue }
        for j in 0..<length {
          let ratio = ((table[indices[j]] * outputScale) / sum).rounded(.toNearestOrEven)
          // Values above 255 saturate anyway; NaN (a zero y_scale) becomes 0.
          let q = Int64(ratio >= 0 ? Swift.min(ratio, 65536) : 0) + Int64(yZero)
          result[base + j * inner] =
            signed ? Int32(Int8(truncatingIfNeeded: q > 255 ? 255 : q)) : Int32(q > 255 ? 255 : q)
        }
      }
    }
    return [QuantizedValues.tensor(result, type: x.dataType, shape: x.shape)]
  }
}
