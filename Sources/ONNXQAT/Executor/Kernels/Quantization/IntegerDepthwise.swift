import CIntegerKernels
import Foundation

/// The direct 2-D depthwise path of IntegerConvolution (one input and one output channel per
/// group): no im2col; for each output row, each kernel tap multiplies the input row segment that
/// falls inside the image (`x - x_zp`, contiguous when the stride is 1) by the tap's weight and
/// adds it into the row with int32 wrap, so the sum equals the reference bit for bit in any
/// order. The (image, channel) planes are split across threads.
extension IntegerConvolution {
  /// Accumulators [N, C, outputSize] into `output` from `x` [N, C, inputSize] and the zero-point
  /// corrected weights `weights` [C, kernelSize].
  func accumulateDepthwise(
    x: UnsafePointer<Int32>, xZero: Int32, weights: UnsafePointer<Int32>, output: UnsafeMutablePointer<Int32>,
    threads: Int
  ) {
    let planes = batch * inputChannels
    let workers = Swift.max(1, Swift.min(threads, planes))
    let body = { (worker: Int) in
      for plane in (planes * worker / workers)..<(planes * (worker + 1) / workers) {
        depthwisePlane(
          x + plane * inputSpatial[0] * inputSpatial[1], xZero: xZero,
          weights: weights + (plane % inputChannels) * kernel[0] * kernel[1],
          output: output + plane * outputSpatial[0] * outputSpatial[1])
      }
    }
    if workers > 1 {
      DispatchQueue.concurrentPerform(iterations: workers, execute: body)
    } else {
      body(0)
    }
  }

  /// One channel's plane of the depthwise convolution. The in-image column range of each kernel
  /// column is computed once; stride-1 and stride-2 rows run on SIMD8 vectors (stride 2 takes the
  /// even lanes of two loads that stay inside the input row), the rest lane by lane.
  func depthwisePlane(
    _ channel: UnsafePointer<Int32>, xZero: Int32, weights: UnsafePointer<Int32>, output: UnsafeMutablePointer<Int32>
  ) {
    let (inputHeight, inputWidth) = (inputSpatial[0], inputSpatial[1])
    let (outputHeight, outputWidth) = (outputSpatial[0], outputSpatial[1])
    let (strideY, strideX) = (strides[0], strides[1])
    var offsets: [Int] = []
    var firsts: [Int] = []
    var lasts: [Int] = []
    for kx in 0..<kernel[1] {
      let xOffset = kx * dilations[1] - padBegin[1]
      let first = xOffset >= 0 ? 0 : Swift.min(outputWidth, (-xOffset + strideX - 1) / strideX)
      offsets.append(xOffset)
      firsts.append(first)
      lasts.append(Swift.max(first, Swift.min(outputWidth, (inputWidth - xOffset + strideX - 1) / strideX)))
    }
    let zeros = SIMD8<Int32>(repeating: xZero)
    output.update(repeating: 0, count: outputHeight * outputWidth)
    for oy in 0..<outputHeight {
      let target = output + oy * outputWidth
      for ky in 0..<kernel[0] {
        let iy = oy * strideY + ky * dilations[0] - padBegin[0]
        guard iy >= 0, iy < inputHeight else { continue }
        for kx in 0..<kernel[1] {
          let weight = weights[ky * kernel[1] + kx]
          if weight == 0 { continue }
          let factor = SIMD8<Int32>(repeating: weight)
          let (xOffset, first, last) = (offsets[kx], firsts[kx], lasts[kx])
          let source = channel + iy * inputWidth + xOffset
          var ox = first
          if strideX == 1 {
            while ox + 8 <= last {
              let values = UnsafeRawPointer(source + ox).loadUnaligned(as: SIMD8<Int32>.self)
              let sums = UnsafeMutableRawPointer(target + ox)
              sums.storeBytes(
                of: sums.loadUnaligned(as: SIMD8<Int32>.self) &+ factor &* (values &- zeros), as: SIMD8<Int32>.self)
              ox += 8
            }
          } else if strideX == 2 {
            while ox + 8 <= last, 2 * ox + 16 <= inputWidth - xOffset {
              let low = UnsafeRawPointer(source + 2 * ox).loadUnaligned(as: SIMD8<Int32>.self)
              let high = UnsafeRawPointer(source + 2 * ox + 8).loadUnaligned(as: SIMD8<Int32>.self)
              let values = SIMD8<Int32>(lowHalf: low.evenHalf, highHalf: high.evenHalf)
              let sums = UnsafeMutableRawPointer(target + ox)
              sums.storeBytes(
                of: sums.loadUnaligned(as: SIMD8<Int32>.self) &+ factor &* (values &- zeros), as: SIMD8<Int32>.self)
              ox += 8
            }
          }
          while ox < last {
            target[ox] = target[ox] &+ weight &* (source[ox * strideX] &- xZero)
            ox += 1
          }
        }
      }
    }
  }

  /// The depthwise 2-D convolution (one input and one output channel per group) of 8-bit tensors:
  /// with at most 258 taps through the float depthwise plane kernel (`qat_depthwise_plane_bytes`,
  /// see DepthwiseConv), each (image, channel) plane widened to Float (`x - x_zp`) in a buffer of
  /// the worker's own just before it is used, exact because every partial sum is an integer below
  /// 2^24; otherwise by the direct int32 kernel
  /// (`depthwisePlane`), each (image, channel) plane widened to Int32 in a buffer of the worker's
  /// own just before it is used. Nil for other shapes or types.
  func accumulateDepthwise8Bit(x: HostTensor, xZero: Int32, w: HostTensor, wZero: [Int32], threads: Int) -> [Int32]? {
    guard kernel.count == 2, inputChannels == group, outputChannels == group, Int8Gemm.accepts(x.dataType),
      let wValues = QuantizedValues.int32s(w)
    else { return nil }
    let kernelSize = kernel[0] * kernel[1]
    let weights = (0..<wValues.count).map { wValues[$0] &- wZero[$0 / kernelSize] }
    let inputSize = inputSpatial[0] * inputSpatial[1]
    let outputSize = outputSpatial[0] * outputSpatial[1]
    let planes = batch * inputChannels
    let resultCount = planes * outputSize
    var result = [Int32](unsafeUninitializedCapacity: resultCount) { _, initialized in initialized = resultCount }
    let signed = x.dataType == .int8
    let bytes = x.pointer(UInt8.self)
    // |x - x_zp| and |w - w_zp| are at most 255: with at most 258 taps every partial sum is an
    // integer below 2^24, exact in Float, so the float depthwise kernel gives the int32 bits.
    if kernelSize * 255 * 255 < 1 << 24,
      let planar = DepthwiseConv.planeGeometry(
        WindowGeometry(
          input: inputSpatial, kernel: kernel, strides: strides, dilations: dilations, padsBegin: padBegin,
          output: outputSpatial
        ).asThreeDimensional)
    {
      let floatWeights = weights.map { Float($0) }
      floatWeights.withUnsafeBufferPointer { pw in
        result.withUnsafeMutableBufferPointer { pr in
          guard let wBase = pw.baseAddress, let output = pr.baseAddress else { return }
          DepthwiseConv.forEachPlaneRange(planes: planes, work: outputSize * kernelSize, threads: threads) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: inputSize + outputSize)
            defer { scratch.deallocate() }
            var geometry = planar
            for index in range {
              qat_depthwise_plane_bytes(
                bytes + index * inputSize, signed ? 1 : 0, xZero, wBase + (index % inputChannels) * kernelSize,
                output + index * outputSize, &geometry, scratch)
            }
          }
        }
      }
      return result
    }
    weights.withUnsafeBufferPointer { pw in
      result.withUnsafeMutableBufferPointer { pr in
        guard let wBase = pw.baseAddress, let output = pr.baseAddress else { return }
        let workers = threads > 1 && resultCount * kernelSize >= 1 << 16 ? Swift.min(threads, planes) : 1
        let body = { (worker: Int) in
          let plane = UnsafeMutablePointer<Int32>.allocate(capacity: inputSize)
          defer { plane.deallocate() }
          for index in (planes * worker / workers)..<(planes * (worker + 1) / workers) {
            let source = bytes + index * inputSize
            if signed {
              for i in 0..<inputSize { plane[i] = Int32(Int8(bitPattern: source[i])) }
            } else {
              for i in 0..<inputSize { plane[i] = Int32(source[i]) }
            }
            depthwisePlane(
              plane, xZero: xZero, weights: wBase + (index % inputChannels) * kernelSize,
              output: output + index * outputSize)
          }
        }
        if workers > 1 {
          DispatchQueue.concurrentPerform(iterations: workers, execute: body)
        } else {
          body(0)
        }
      }
    }
    return result
  }
}
