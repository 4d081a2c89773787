import CIntegerKernels
import Foundation

/// The direct 2-D depthwise paths of IntegerConvolution (one input and one output channel per
/// group), no im2col, the (image, channel) planes split across threads. 8-bit tensors go through
/// the C kernel `qat_depthwise_plane_int8` (depthwise_int8.c: exact int32 sums, on AVX512-VNNI by
/// vpdpbusd straight on the input bytes when `w - w_zp` fits int8, else of tap pairs with
/// vpmaddwd / vpdpwssd over a zero-padded int16 copy of the plane). Other integer types take the Swift loop
/// below: for each output row, each kernel tap multiplies the input row segment that falls inside
/// the image (`x - x_zp`, contiguous when the stride is 1) by the tap's weight and adds it into
/// the row with int32 wrap. Both equal the reference bit for bit, in any order of summation.
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
      ParallelWork.perform(iterations: workers, execute: body)
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

  /// The depthwise 2-D convolution (one input and one output channel per group) of 8-bit tensors
  /// as int32 accumulators [N, C, outputSize], from `forEachDepthwisePlane8Bit`. Nil for other
  /// shapes or types.
  func accumulateDepthwise8Bit(x: HostTensor, xZero: Int32, w: HostTensor, wZero: [Int32], threads: Int) -> [Int32]? {
    let outputSize = outputSpatial.reduce(1, *)
    let resultCount = batch * outputChannels * outputSize
    var result = [Int32](unsafeUninitializedCapacity: resultCount) { _, initialized in initialized = resultCount }
    let done = result.withUnsafeMutableBufferPointer { buffer -> Bool in
      guard let output = buffer.baseAddress else { return false }
      return forEachDepthwisePlane8Bit(x: x, xZero: xZero, w: w, wZero: wZero, threads: threads) { plane, sums in
        (output + plane * outputSize).update(from: sums, count: outputSize)
      }
    }
    return done ? result : nil
  }

  /// The depthwise 2-D convolution of 8-bit tensors one (image, channel) plane at a time through
  /// the C kernel `qat_depthwise_plane_int8` (exact int32 sums of `(x - x_zp) * (w - w_zp[c])`,
  /// AVX512-VNNI or AVX2 when available): `body(plane, sums)` receives each plane's `outputSize` accumulators in
  /// a buffer of the worker's own, still in cache, the planes split across `threads` threads.
  /// False (nothing called) unless the convolution is 2-D depthwise on int8/uint8 x and w.
  func forEachDepthwisePlane8Bit(
    x: HostTensor, xZero: Int32, w: HostTensor, wZero: [Int32], threads: Int,
    body: (Int, UnsafeMutablePointer<Int32>) -> Void
  ) -> Bool {
    guard kernel.count == 2, inputChannels == group, outputChannels == group, Int8Gemm.accepts(x.dataType),
      Int8Gemm.accepts(w.dataType), wZero.count == 1 || wZero.count == outputChannels
    else { return false }
    let kernelSize = kernel[0] * kernel[1]
    let inputSize = inputSpatial[0] * inputSpatial[1]
    let outputSize = outputSpatial[0] * outputSpatial[1]
    let channels = inputChannels
    var geometry = geometry2D
    let scratchBytes = qat_depthwise_int8_scratch_bytes(&geometry)
    let (xBytes, wBytes) = (UnsafeRawPointer(x.pointer(UInt8.self)), UnsafeRawPointer(w.pointer(UInt8.self)))
    let (xSigned, wSigned): (Int32, Int32) = (x.dataType == .int8 ? 1 : 0, w.dataType == .int8 ? 1 : 0)
    DepthwiseConv.forEachPlaneRange(planes: batch * channels, work: outputSize * kernelSize, threads: threads) {
      range in
      let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchBytes, alignment: 64)
      defer { scratch.deallocate() }
      let sums = UnsafeMutablePointer<Int32>.allocate(capacity: outputSize)
      defer { sums.deallocate() }
      var planeGeometry = geometry
      for plane in range {
        let channel = plane % channels
        qat_depthwise_plane_int8(
          xBytes + plane * inputSize, xSigned, xZero, wBytes + channel * kernelSize, wSigned,
          wZero[wZero.count == 1 ? 0 : channel], sums, &planeGeometry, scratch)
        body(plane, sums)
      }
    }
    return true
  }

  /// The C kernels' description of one plane of this 2-D convolution.
  var geometry2D: qat_depthwise_geometry {
    qat_depthwise_geometry(
      in_h: Int32(inputSpatial[0]), in_w: Int32(inputSpatial[1]), out_h: Int32(outputSpatial[0]),
      out_w: Int32(outputSpatial[1]), kernel_h: Int32(kernel[0]), kernel_w: Int32(kernel[1]),
      stride_h: Int32(strides[0]), stride_w: Int32(strides[1]), dilation_h: Int32(dilations[0]),
      dilation_w: Int32(dilations[1]), pad_top: Int32(padBegin[0]), pad_left: Int32(padBegin[1]))
  }
}
