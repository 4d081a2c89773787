import Foundation

/// com.microsoft QLinearGlobalAveragePool and QLinearAveragePool (onnxruntime contrib ops,
/// version 1) on int8/uint8, NCHW or (`channels_last` = 1) NHWC.
///
/// Global: `acc = sum(x) - x_zp * size` (int32) requantized by the Requantizer with multiplier
/// `x_scale / (y_scale * Float(size))` (MlasQLinearGlobalAveragePoolNchw, qlgavgpool.cpp).
/// AveragePool (qlinear_pool.cc): each x dequantized to `x_scale * Float(x - x_zp)`, the window
/// summed in Float in row-major order, divided by the element count (the kernel size with
/// `count_include_pad`, else the window clipped to the input), then
/// `clamp(nearbyint(avg / y_scale + Float(y_zp)))` in `float` mode; in `fixed-point` mode the
/// window sum of `x - x_zp` (int32) goes through TFLite's multiply-and-shift with multiplier
/// `x_scale / (y_scale * count)`. Attributes auto_pad, ceil_mode,
/// count_include_pad, kernel_shape, pads, strides. A window covering the whole unpadded image
/// takes the global path, as onnxruntime does.
enum QLinearPoolingKernel {
  struct Parameters {
    let x: HostTensor
    let xScale: Float
    let xZero: Int32
    let yScale: Float
    let yZero: Int32
    let range: ClosedRange<Int32>
    let channelsLast: Bool
    /// NCHW view: [N, C, spatial...].
    let shape: [Int]
  }

  static func parameters(_ context: KernelContext) throws -> Parameters {
    let x = try context.input(0)
    guard x.dataType == .int8 || x.dataType == .uint8, let range = QuantizedValues.range(x.dataType), x.rank >= 3
    else {
      throw context.failure("expected an int8 or uint8 input of rank >= 3, got \(x.typeDescription)")
    }
    let xScale = try QLinearMatMulKernel.scales(try context.input(1), count: 1, name: "x_scale", context: context)[0]
    let xZero = try MatMulIntegerKernel.zeroPoints(
      context.optionalInput(2), count: 1, name: "x_zero_point", context: context)[0]
    let yScale = try QLinearMatMulKernel.scales(try context.input(3), count: 1, name: "y_scale", context: context)[0]
    let yZero = try MatMulIntegerKernel.zeroPoints(
      context.optionalInput(4), count: 1, name: "y_zero_point", context: context)[0]
    let channelsLast = context.int("channels_last", default: 0) != 0
    var shape = x.shape
    if channelsLast { shape = [shape[0], shape[shape.count - 1]] + shape[1..<(shape.count - 1)] }
    return Parameters(
      x: x, xScale: xScale, xZero: xZero, yScale: yScale, yZero: yZero, range: range, channelsLast: channelsLast,
      shape: shape)
  }

  /// Offset of (image, channel, spatial index) in the input's layout.
  @inline(__always)
  static func offset(_ p: Parameters, image: Int, channel: Int, spatial: Int, size: Int) -> Int {
    let channels = p.shape[1]
    return p.channelsLast
      ? (image * size + spatial) * channels + channel : (image * channels + channel) * size + spatial
  }

  static func runGlobal(_ context: KernelContext) throws -> [HostTensor?] {
    let p = try parameters(context)
    let (batch, channels) = (p.shape[0], p.shape[1])
    let size = p.shape[2...].reduce(1, *)
    var sums = [Int32](repeating: 0, count: batch * channels)
    // Straight from the tensor's bytes. Channels first: each channel's values are contiguous;
    // channels last: `channels` apart.
    let step = p.channelsLast ? channels : 1
    let bytes = p.x.pointer(UInt8.self)
    let signed = p.x.dataType == .int8
    for image in 0..<batch {
      for channel in 0..<channels {
        let start = p.channelsLast ? image * size * channels + channel : (image * channels + channel) * size
        var sum = Int32(truncatingIfNeeded: -Int(p.xZero) * size)
        if step == 1 {
          // Contiguous: a loop the compiler vectorizes (int32 wrap, so any order gives the same sum).
          let raw = UnsafeRawPointer(bytes + start)
          sum &+=
            signed
            ? contiguousSum(raw.assumingMemoryBound(to: Int8.self), size)
            : contiguousSum(raw.assumingMemoryBound(to: UInt8.self), size)
        } else if signed {
          for s in 0..<size { sum &+= Int32(Int8(bitPattern: bytes[start + s * step])) }
        } else {
          for s in 0..<size { sum &+= Int32(bytes[start + s * step]) }
        }
        sums[image * channels + channel] = sum
      }
    }
    let requantizer = Requantizer(
      mode: context.interpreter.options.requantization, scales: [p.xScale / (p.yScale * Float(size))],
      realScales: [Double(p.xScale) / (Double(p.yScale) * Double(size))], zeroPoint: p.yZero, range: p.range)
    var result = [Int32](repeating: 0, count: sums.count)
    sums.withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { target in
        guard let s = source.baseAddress, let t = target.baseAddress else { return }
        requantizer.requantize(s, count: sums.count, channel: 0, into: t)
      }
    }
    let ones = [Int](repeating: 1, count: p.shape.count - 2)
    let shape = p.channelsLast ? [batch] + ones + [channels] : [batch, channels] + ones
    return [QuantizedValues.tensor(result, type: p.x.dataType, shape: shape)]
  }

  /// The int32 sum (with wrap-around) of `count` contiguous 8-bit values.
  @inline(__always)
  private static func contiguousSum<T: FixedWidthInteger>(_ values: UnsafePointer<T>, _ count: Int) -> Int32 {
    var sum: Int32 = 0
    for i in 0..<count { sum &+= Int32(truncatingIfNeeded: values[i]) }
    return sum
  }

  static func runAverage(_ context: KernelContext) throws -> [HostTensor?] {
    let p = try parameters(context)
    let spatial = Array(p.shape[2...])
    let rank = spatial.count
    guard let kernel = context.ints("kernel_shape"), kernel.count == rank else {
      throw context.failure("kernel_shape must have \(rank) values")
    }
    let strides = context.ints("strides") ?? [Int](repeating: 1, count: rank)
    var pads = context.ints("pads") ?? [Int](repeating: 0, count: 2 * rank)
    guard strides.count == rank, pads.count == 2 * rank else {
      throw context.failure("strides must have \(rank) values and pads \(2 * rank)")
    }
    let ceilMode = context.int("ceil_mode", default: 0) != 0
    let includePad = context.int("count_include_pad", default: 0) != 0
    let autoPad = context.string("auto_pad", default: "NOTSET")
    var output = [Int](repeating: 0, count: rank)
    for d in 0..<rank {
      var padded = pads[d] + pads[d + rank]
      if autoPad == "VALID" {
        pads[d] = 0
        pads[d + rank] = 0
        padded = 0
      } else if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
        let target = (spatial[d] + strides[d] - 1) / strides[d]
        padded = Swift.max(0, (target - 1) * strides[d] + kernel[d] - spatial[d])
        pads[d] = autoPad == "SAME_LOWER" ? (padded + 1) / 2 : padded / 2
        pads[d + rank] = padded - pads[d]
      }
      let span = spatial[d] + padded - kernel[d]
      guard span >= 0 else { throw context.failure("kernel \(kernel) does not fit the padded input \(spatial)") }
      output[d] = ceilMode ? (span + strides[d] - 1) / strides[d] + 1 : span / strides[d] + 1
      if ceilMode && (output[d] - 1) * strides[d] >= spatial[d] + pads[d] { output[d] -= 1 }
    }
    if kernel == spatial && pads.allSatisfy({ $0 == 0 }) { return try runGlobal(context) }
    let (batch, channels) = (p.shape[0], p.shape[1])
    let inputSize = spatial.reduce(1, *)
    let outputSize = output.reduce(1, *)
    let kernelSize = kernel.reduce(1, *)
    let integers = QuantizedValues.int32s(p.x) ?? []
    let dequantized = integers.map { p.xScale * Float($0 &- p.xZero) }
    var result = [Int32](repeating: 0, count: batch * channels * outputSize)
    var outputIndex = [Int](repeating: 0, count: rank)
    var starts = [Int](repeating: 0, count: rank)
    var ends = [Int](repeating: 0, count: rank)
    for o in 0..<outputSize {
      var windowCount = 1
      for d in 0..<rank {
        let start = outputIndex[d] * strides[d] - pads[d]
        ends[d] = Swift.min(start + kernel[d], spatial[d])
        starts[d] = Swift.max(start, 0)
        windowCount *= Swift.max(0, ends[d] - starts[d])
      }
      let divisor = Float(includePad ? kernelSize : windowCount)
      for image in 0..<batch {
        for channel in 0..<channels {
          var sum: Float = 0
          var integerSum: Int32 = 0
          if windowCount > 0 {
            var index = starts
            while true {
              var flat = 0
              for d in 0..<rank { flat = flat * spatial[d] + index[d] }
              let source = offset(p, image: image, channel: channel, spatial: flat, size: inputSize)
              sum += dequantized[source]
              integerSum &+= integers[source] &- p.xZero
              var d = rank - 1
              while d >= 0 {
                index[d] += 1
                if index[d] < ends[d] { break }
                index[d] = starts[d]
                d -= 1
              }
              if d < 0 { break }
            }
          }
          let average = sum / divisor
          let q = (average / p.yScale + Float(p.yZero)).rounded(.toNearestOrEven)
          let clamped =
            q.isNaN
            ? p.range.lowerBound : Int32(Swift.min(Swift.max(q, Float(p.range.lowerBound)), Float(p.range.upperBound)))
          let target =
            p.channelsLast
            ? (image * outputSize + o) * channels + channel : (image * channels + channel) * outputSize + o
          result[target] = clamped
        }
      }
      var d = rank - 1
      while d >= 0 {
        outputIndex[d] += 1
        if outputIndex[d] < output[d] { break }
        outputIndex[d] = 0
        d -= 1
      }
    }
    let shape = p.channelsLast ? [batch] + output + [channels] : [batch, channels] + output
    return [QuantizedValues.tensor(result, type: p.x.dataType, shape: shape)]
  }
}
