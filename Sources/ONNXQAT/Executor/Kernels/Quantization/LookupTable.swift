import Foundation

/// onnxruntime's 256-entry lookup tables for 8-bit element-wise ops (QlinearBuildLookupTable in
/// onnxruntime/contrib_ops/cpu/quantization/qlinear_lookup_table.cc): every code `q` is
/// dequantized as `x_scale * Float(q - x_zp)`, transformed in Float, and quantized with MLAS's
/// QuantizeLinear (`Requantizer.mlasQuantize`). The op then maps each element through the table.
struct LookupTable {
  let entries: [Int32]

  /// A table for int8 or uint8 `type`.
  init(
    type: DataType, inputScale: Float, inputZeroPoint: Int32, outputScale: Float, outputZeroPoint: Int32,
    transform: ([Float]) -> [Float]
  ) {
    let codes: [Int32] = type == .int8 ? Array(-128...127) : Array(0...255)
    let dequantized = codes.map { inputScale * Float($0 &- inputZeroPoint) }
    let transformed = transform(dequantized)
    let range: ClosedRange<Int32> = type == .int8 ? -128...127 : 0...255
    entries = transformed.map {
      Requantizer.mlasQuantize($0, scale: outputScale, zeroPoint: outputZeroPoint, range: range)
    }
  }

  /// Maps every element of int8/uint8 `x` through the table into a new tensor of `type`.
  func apply(_ x: HostTensor, type: DataType) -> HostTensor {
    let count = x.count
    var result = [Int32](repeating: 0, count: count)
    if x.dataType == .int8 {
      let p = x.pointer(Int8.self)
      for i in 0..<count { result[i] = entries[Int(p[i]) + 128] }
    } else {
      let p = x.pointer(UInt8.self)
      for i in 0..<count { result[i] = entries[Int(p[i])] }
    }
    return QuantizedValues.tensor(result, type: type, shape: x.shape)
  }

  /// MLAS's logistic function as its FMA3 kernel computes it (MlasLogisticKernelFma3,
  /// onnxruntime/core/mlas/lib/x86_64/LogisticKernelFma3.S; constants in logistic.cpp): the input
  /// clamped to [-18, 18], Eigen's rational polynomial p(x)/q(x) with fused multiply-adds, plus
  /// 0.5, clamped below at 0.
  static func mlasLogistic(_ input: Float) -> Float {
    let x = Swift.min(18, Swift.max(-18, input))
    let x2 = x * x
    var p: Float = 1.15627324459942e-07
    p.addProduct(x2, 4.37031012579801e-11)
    p = (6.08574864600143e-05 as Float).addingProduct(x2, p)
    p = (8.51377133304701e-03 as Float).addingProduct(x2, p)
    p = (2.48287947061529e-01 as Float).addingProduct(x2, p)
    var q: Float = 5.76102136993427e-09
    q.addProduct(x2, 6.10247389755681e-13)
    q = (6.29106785017040e-06 as Float).addingProduct(x2, q)
    q = (1.70198817374094e-03 as Float).addingProduct(x2, q)
    q = (1.16817656904453e-01 as Float).addingProduct(x2, q)
    q = (9.93151921023180e-01 as Float).addingProduct(x2, q)
    p = x * p
    return Swift.max(0, p / q + 0.5)
  }
}
