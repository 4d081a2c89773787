import Foundation

/// ConvInteger (opset 10): `y = conv(x - x_zero_point, w - w_zero_point)` as int32 (see
/// IntegerConvolution for the formula and attributes auto_pad, dilations, group, kernel_shape,
/// pads, strides). x, w: int8 or uint8; `x_zero_point` a scalar, `w_zero_point` a scalar or per
/// output channel ([M]).
enum ConvIntegerKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let x = try context.input(0)
    let w = try context.input(1)
    let convolution = try IntegerConvolution(x: x.shape, w: w.shape, context: context)
    let xZero = try MatMulIntegerKernel.zeroPoints(
      context.optionalInput(2), count: 1, name: "x_zero_point", context: context)
    let wZero = try MatMulIntegerKernel.zeroPoints(
      context.optionalInput(3), count: convolution.outputChannels, name: "w_zero_point", context: context)
    guard
      let result = convolution.accumulate(
        x: x, xZero: xZero[0], w: w, wZero: wZero, threads: Swift.max(1, context.interpreter.options.threads))
    else {
      throw context.failure("expected integer x and w, got \(x.typeDescription) and \(w.typeDescription)")
    }
    return [HostTensor(.int32, shape: convolution.outputShape, values: result)]
  }
}
