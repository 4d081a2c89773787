import Foundation

/// com.microsoft QLinearSigmoid and QLinearLeakyRelu (onnxruntime contrib ops, version 1) on
/// int8/uint8: `y = quantize(f(dequantize(x)))` through a 256-entry LookupTable, exactly as
/// onnxruntime builds it. Inputs X, X_scale, X_zero_point (optional), Y_scale, Y_zero_point
/// (optional). Sigmoid uses MLAS's logistic approximation (LookupTable.mlasLogistic);
/// LeakyRelu `v >= 0 ? v : alpha * v` with attribute `alpha` (default 0.01). Both requantization
/// modes give the same table (there is no int32 accumulator).
enum QLinearLookupKernel {
  enum Function { case sigmoid, leakyRelu }

  static func run(_ context: KernelContext, _ function: Function) throws -> [HostTensor?] {
    let x = try context.input(0)
    guard x.dataType == .int8 || x.dataType == .uint8 else {
      throw context.failure("expected an int8 or uint8 input, got \(x.typeDescription)")
    }
    let xScale = try QLinearMatMulKernel.scales(try context.input(1), count: 1, name: "X_scale", context: context)[0]
    let xZero = try MatMulIntegerKernel.zeroPoints(
      context.optionalInput(2), count: 1, name: "X_zero_point", context: context)[0]
    let yScale = try QLinearMatMulKernel.scales(try context.input(3), count: 1, name: "Y_scale", context: context)[0]
    let yZero = try MatMulIntegerKernel.zeroPoints(
      context.optionalInput(4), count: 1, name: "Y_zero_point", context: context)[0]
    let alpha = context.float("alpha", default: 0.01)
    let table = LookupTable(
      type: x.dataType, inputScale: xScale, inputZeroPoint: xZero, outputScale: yScale, outputZeroPoint: yZero
    ) { values in
      switch function {
      case .sigmoid: return values.map { LookupTable.mlasLogistic($0) }
      case .leakyRelu: return values.map { $0 >= 0 ? $0 : alpha * $0 }
      }
    }
    return [table.apply(x, type: x.dataType)]
  }
}
