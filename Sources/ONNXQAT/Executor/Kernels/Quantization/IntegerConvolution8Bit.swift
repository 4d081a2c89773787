import Foundation

/// The 8-bit path of IntegerConvolution for 2-D convolutions that are not depthwise: per image and
/// group, the im2col matrix is built in bytes (the padding holds the byte of `x_zp`, so it
/// contributes `x_zp - x_zp = 0`) and multiplied by the group's weights with Int8Gemm, which
/// subtracts the zero points while packing and accumulates exactly in int32. A 1x1 convolution
/// with stride 1 and no padding needs no im2col: the input planes are B as they are.
///
/// Skip cases (the Int32 paths of IntegerConvolution run instead):
/// 1. not 2-D;
/// 2. x or w not int8/uint8;
/// 3. depthwise (one input and one output channel per group): the direct kernel
///    (`accumulateDepthwise8Bit`, IntegerDepthwise) instead.
extension IntegerConvolution {
  /// Int32 accumulators [N, M, outputSize] of the convolution of the tensors `x` (minus `xZero`)
  /// and `w` (minus `wZero[m]`): the 8-bit path when it applies, else the Int32 paths; nil when
  /// x or w is not an integer tensor. `packing` keeps the 8-bit path's packed weights across runs.
  func accumulate(
    x: HostTensor, xZero: Int32, w: HostTensor, wZero: [Int32], threads: Int, packing: PackedIntegerWeights? = nil
  ) -> [Int32]? {
    if let result = accumulate8Bit(x: x, xZero: xZero, w: w, wZero: wZero, threads: threads, packing: packing) {
      return result
    }
    if let result = accumulateDepthwise8Bit(x: x, xZero: xZero, w: w, wZero: wZero, threads: threads) {
      return result
    }
    guard let xValues = QuantizedValues.int32s(x), let wValues = QuantizedValues.int32s(w) else { return nil }
    return accumulate(x: xValues, xZero: xZero, w: wValues, wZero: wZero, threads: threads)
  }

  /// Int32 accumulators [N, M, outputSize] of the convolution of `x` (minus `xZero`) with `w`
  /// (minus `wZero[m]`, one per output channel), or nil in the skip cases; `packing`, when given,
  /// supplies the groups' u8 x s8 weight packings (kept across runs) for a uint8 x.
  func accumulate8Bit(
    x: HostTensor, xZero: Int32, w: HostTensor, wZero: [Int32], threads: Int, packing: PackedIntegerWeights? = nil
  ) -> [Int32]? {
    guard kernel.count == 2 else { return nil }  // skip 1
    guard Int8Gemm.accepts(x.dataType), Int8Gemm.accepts(w.dataType) else { return nil }  // skip 2
    let channelsPerGroup = inputChannels / group
    let outputsPerGroup = outputChannels / group
    guard channelsPerGroup > 1 || outputsPerGroup > 1 else { return nil }  // skip 3
    let inputSize = inputSpatial[0] * inputSpatial[1]
    let outputSize = outputSpatial[0] * outputSpatial[1]
    let kernelSize = kernel[0] * kernel[1]
    let depth = channelsPerGroup * kernelSize
    let pointwise = isPointwise
    let columns = UnsafeMutablePointer<UInt8>.allocate(capacity: pointwise ? 1 : depth * outputSize)
    defer { columns.deallocate() }
    let padding = UInt8(truncatingIfNeeded: xZero)
    let xBytes = UnsafeRawPointer(x.pointer(UInt8.self))
    let wBytes = UnsafeRawPointer(w.pointer(UInt8.self))
    let resultCount = batch * outputChannels * outputSize
    var result = [Int32](unsafeUninitializedCapacity: resultCount) { _, initialized in initialized = resultCount }
    result.withUnsafeMutableBufferPointer { buffer in
      guard let output = buffer.baseAddress else { return }
      for image in 0..<batch {
        for g in 0..<group {
          let planes = xBytes + (image * inputChannels + g * channelsPerGroup) * inputSize
          if !pointwise { im2colBytes(planes, padding: padding, into: columns, threads: threads) }
          let weights = Int8Gemm.Operand(
            base: wBytes + g * outputsPerGroup * depth, isSigned: w.dataType == .int8, rowStride: depth)
          let b = Int8Gemm.Operand(
            base: pointwise ? planes : UnsafeRawPointer(columns), isSigned: x.dataType == .int8,
            rowStride: pointwise ? inputSize : outputSize)
          let groupZeros = (g * outputsPerGroup)..<((g + 1) * outputsPerGroup)
          let zeros = Set(wZero).count == 1 ? [wZero[0]] : Array(wZero[groupZeros])
          let quads =
            x.dataType == .uint8
            ? packing?.packed(w, wZero: wZero, group: g, groups: group, m: outputsPerGroup, k: depth) : nil
          Int8Gemm.multiply(
            weights, aZero: zeros, b, bZero: [xZero], m: outputsPerGroup, k: depth, n: outputSize,
            into: output + (image * outputChannels + g * outputsPerGroup) * outputSize, ldc: outputSize,
            threads: threads, packing: quads)
        }
      }
    }
    return result
  }

  /// A 1x1 convolution with stride 1 and no padding: the input planes are the GEMM's B as they are.
  var isPointwise: Bool {
    kernel == [1, 1] && strides == [1, 1] && padBegin == [0, 0] && outputSpatial == inputSpatial
  }

  /// The byte im2col matrix of one group (`inputChannels / group` planes from `planes`) into
  /// `columns` ([C/G * kernelSize, outputSize]), the padding `padding`, the channels split across
  /// up to `threads` threads when the matrix has at least 2^15 bytes.
  func im2colBytes(
    _ planes: UnsafeRawPointer, padding: UInt8, into columns: UnsafeMutablePointer<UInt8>, threads: Int
  ) {
    let channelsPerGroup = inputChannels / group
    let kernelSize = kernel[0] * kernel[1]
    let outputSize = outputSpatial[0] * outputSpatial[1]
    let size = channelsPerGroup * kernelSize * outputSize
    let workers = threads > 1 && size >= 1 << 15 ? Swift.min(threads, channelsPerGroup) : 1
    let fill = { (worker: Int) in
      im2colBytes(
        planes, padding: padding,
        channels: (channelsPerGroup * worker / workers)..<(channelsPerGroup * (worker + 1) / workers),
        columns: 0..<outputSize, into: columns, rowStride: outputSize)
    }
    if workers > 1 {
      ParallelWork.perform(iterations: workers, execute: fill)
    } else {
      fill(0)
    }
  }

  /// The rows of input channels `channels` (of one group's planes at `planes`) of the byte im2col
  /// matrix, for the output positions `columns` only, on this thread: channel `c`'s rows start at
  /// `into + c * kernelSize * rowStride`, each `rowStride` bytes apart, position `column` at
  /// `column - columns.lowerBound`.
  func im2colBytes(
    _ planes: UnsafeRawPointer, padding: UInt8, channels: Range<Int>, columns: Range<Int>,
    into rows: UnsafeMutablePointer<UInt8>, rowStride: Int
  ) {
    let kernelSize = kernel[0] * kernel[1]
    let inputSize = inputSpatial[0] * inputSpatial[1]
    for c in channels {
      im2col2DBytes(
        planes.assumingMemoryBound(to: UInt8.self) + c * inputSize, padding: padding, columns: columns,
        into: rows + c * kernelSize * rowStride, rowStride: rowStride)
    }
  }
}
