import Foundation

/// QLinearConv (opset 10): `y = requantize(conv(x - x_zp, w - w_zp[m]) + B[m], x_scale * w_scale[m] / y_scale) + y_zp`
/// with int32 accumulation and bias (see IntegerConvolution for the attributes). x, w, y: int8
/// or uint8 (y takes y_zero_point's type); `w_scale` and `w_zero_point` per tensor or per output
/// channel ([M]); optional int32 bias B [M]. Requantization follows
/// `ExecutionOptions.requantization` (Requantizer), the multiplier formed as onnxruntime does:
/// `Float(x_scale) * Float(w_scale[m]) / Float(y_scale)`, the bias added with int32 wrap.
enum QLinearConvKernel {
  /// The kernel: `run(context, packing: nil)`.
  static func run(_ context: KernelContext) throws -> [HostTensor?] { try run(context, packing: nil) }

  /// Runs the node of `context`; `packing` keeps the packed weights of a planned step across runs
  /// (PackedIntegerWeights).
  static func run(_ context: KernelContext, packing: PackedIntegerWeights?) throws -> [HostTensor?] {
    let x = try context.input(0)
    let w = try context.input(3)
    guard Int8Gemm.accepts(x.dataType), Int8Gemm.accepts(w.dataType) else {
      throw context.failure("expected int8 or uint8 x and w, got \(x.typeDescription) and \(w.typeDescription)")
    }
    let convolution = try IntegerConvolution(x: x.shape, w: w.shape, context: context)
    let channels = convolution.outputChannels
    let xScale = try QLinearMatMulKernel.scales(try context.input(1), count: 1, name: "x_scale", context: context)
    let wScale = try QLinearMatMulKernel.scales(
      try context.input(4), count: channels, name: "w_scale", context: context)
    let yScale = try QLinearMatMulKernel.scales(try context.input(6), count: 1, name: "y_scale", context: context)
    let xZero = try MatMulIntegerKernel.zeroPoints(
      try context.input(2), count: 1, name: "x_zero_point", context: context)
    let wZero = try MatMulIntegerKernel.zeroPoints(
      try context.input(5), count: channels, name: "w_zero_point", context: context)
    let yZeroTensor = try context.input(7)
    guard let yZero = QuantizedValues.int32s(yZeroTensor)?.first,
      let range = QuantizedValues.range(yZeroTensor.dataType)
    else {
      throw context.failure("y_zero_point must be an int8 or uint8 scalar, got \(yZeroTensor.typeDescription)")
    }
    var bias = [Int32](repeating: 0, count: channels)
    if let b = context.optionalInput(8) {
      guard b.dataType == .int32, b.count == channels else {
        throw context.failure("B must be an int32 vector of \(channels) elements, got \(b.typeDescription)")
      }
      bias = b.values(Int32.self)
    }
    let requantizer = Requantizer(
      mode: context.interpreter.options.requantization, inputScale: xScale[0], weightScales: wScale,
      outputScale: yScale[0], zeroPoint: yZero, range: range)
    let output = HostTensor(uninitialized: yZeroTensor.dataType, shape: convolution.outputShape)
    let size = convolution.outputSpatial.reduce(1, *)
    let unsigned = yZeroTensor.dataType == .uint8
    let (bytes, signedBytes) = (output.pointer(UInt8.self), output.pointer(Int8.self))
    let biases = bias
    // One (image, channel) row of accumulators: the bias added, requantized into the output.
    let requantizePlane = { (plane: Int, row: UnsafeMutablePointer<Int32>) in
      let channel = plane % channels
      if unsigned {
        requantizer.requantize(row, count: size, channel: channel, bias: biases[channel], into: bytes + plane * size)
      } else {
        requantizer.requantize(
          row, count: size, channel: channel, bias: biases[channel], into: signedBytes + plane * size)
      }
    }
    let threads = Swift.max(1, context.interpreter.options.threads)
    // Depthwise: each plane requantized by the worker that computed it, while it is in cache.
    if convolution.forEachDepthwisePlane8Bit(
      x: x, xZero: xZero[0], w: w, wZero: wZero, threads: threads, body: requantizePlane)
    {
      return [output]
    }
    // Other 2-D convolutions: requantized in the GEMM's store when the fused path applies.
    let rows = (0..<channels).map { requantizer.vectorParameters(channel: $0, bias: biases[$0]) }
    if convolution.requantized8Bit(
      x: x, xZero: xZero[0], w: w, wZero: wZero, threads: threads, packing: packing, rows: rows,
      outputSigned: !unsigned, output: UnsafeMutableRawPointer(bytes))
    {
      return [output]
    }
    guard
      var accumulators = convolution.accumulate(
        x: x, xZero: xZero[0], w: w, wZero: wZero, threads: threads, packing: packing)
    else {
      throw context.failure("expected int8 or uint8 x and w, got \(x.typeDescription) and \(w.typeDescription)")
    }
    accumulators.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      // Every (image, channel) row is requantized on its own, the rows split across the threads.
      DepthwiseConv.forEachPlaneRange(planes: convolution.batch * channels, work: size, threads: threads) { planes in
        for plane in planes { requantizePlane(plane, base + plane * size) }
      }
    }
    return [output]
  }
}
