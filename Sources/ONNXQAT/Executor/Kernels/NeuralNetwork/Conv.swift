import CIntegerKernels
import Foundation

/// Conv (opsets 1, 11, 22): N-d convolution (1-3 spatial axes) on float32 (double, float16 and
/// bfloat16 through float32):
///
///     Y[n, m, o...] = B[m] + sum_{c, k...} X[n, g*C/G + c, o*s - pad_begin + k*d ...] * W[m, c, k...]
///
/// with group `G` (g = m / (M/G)), strides, dilations, pads or auto_pad (NOTSET, SAME_UPPER,
/// SAME_LOWER, VALID), optional bias, and kernel_shape inferred from W. Each group is an im2col
/// matrix times the group's weights through the shared GEMM, the im2col columns written straight
/// in the GEMM's packed layout, the bias written with the first K block's sums (no separate
/// fill); 1x1 stride-1 unpadded kernels skip im2col; one input channel per group (depthwise)
/// takes a direct loop.
///
/// A planned step may pass an `epilogue` (a BatchNormalization and/or activation fused after
/// the Conv, applied to each band of output lines or depthwise plane as soon as it is summed;
/// X, W and B must then be float32) and `packing`, its cache of packed constant weights.
enum ConvKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    try run(context, epilogue: nil, packing: nil)
  }

  static func run(_ context: KernelContext, epilogue: FusedEpilogue?, packing: PackedConvWeights?) throws
    -> [HostTensor?]
  {
    let rawX = try context.input(0)
    let rawW = try context.input(1)
    let x = try NeuralNetworkFloat.input(context, 0, "X")
    let w = try NeuralNetworkFloat.input(context, 1, "W")
    let bias = try NeuralNetworkFloat.optionalInput(context, 2, "B")
    guard x.rank >= 3, x.rank <= 5 else {
      throw context.failure("input 0 'X' has shape \(x.shape); expected [N, C, D1, ...] with 1 to 3 spatial axes")
    }
    guard w.rank == x.rank else {
      throw context.failure("input 1 'W' has shape \(w.shape); expected rank \(x.rank) like X \(x.shape)")
    }
    let group = context.int("group", default: 1)
    let batches = x.shape[0]
    let channels = x.shape[1]
    let outChannels = w.shape[0]
    let groupChannels = w.shape[1]
    guard group > 0, groupChannels * group == channels, outChannels % group == 0 else {
      throw context.failure(
        "input 1 'W' has shape \(w.shape); expected \(group > 0 ? channels / group : channels) input channels for "
          + "group \(group) and output channels divisible by the group (X \(x.shape))")
    }
    let kernel = Array(w.shape[2...])
    if let declared = context.ints("kernel_shape"), !declared.isEmpty, declared != kernel {
      throw context.failure("kernel_shape \(declared) does not match input 1 'W' \(w.shape)")
    }
    if let bias, bias.count != outChannels {
      throw context.failure("input 2 'B' has shape \(bias.shape); expected [\(outChannels)]")
    }
    if let epilogue, epilogue.channels.map({ $0 != outChannels }) ?? false || rawX.dataType != .float {
      throw context.failure("the fused epilogue does not fit \(outChannels) float output channels")
    }
    let geometry = try WindowGeometry(context, input: Array(x.shape[2...]), kernel: kernel)
    let result = HostTensor(uninitialized: .float, shape: [batches, outChannels] + geometry.output)
    let outSpatial = geometry.output.reduce(1, *)
    let inSpatial = geometry.input.reduce(1, *)
    let py = result.pointer(Float.self)
    let pb = bias.map { UnsafePointer($0.pointer(Float.self)) }
    guard outSpatial > 0, result.count > 0 else { return [NeuralNetworkFloat.output(result, as: rawX.dataType)] }
    let threads = NeuralNetworkFloat.threads(context)
    let cube = geometry.asThreeDimensional
    let px = UnsafePointer(x.pointer(Float.self))
    let pw = UnsafePointer(w.pointer(Float.self))
    if groupChannels == 1 && group > 1 {
      DepthwiseConv.run(
        x: px, w: pw, bias: pb, y: py, batches: batches, channels: channels, outChannels: outChannels,
        geometry: cube, threads: threads, epilogue: epilogue)
      return [NeuralNetworkFloat.output(result, as: rawX.dataType)]
    }
    let kernelVolume = kernel.reduce(1, *)
    let depth = groupChannels * kernelVolume
    let groupOut = outChannels / group
    let pointwise =
      kernelVolume == 1 && geometry.strides.allSatisfy { $0 == 1 }
      && geometry.padsBegin.allSatisfy { $0 == 0 } && geometry.padsEnd.allSatisfy { $0 == 0 }
    // im2col a band of output lines at a time. Large convolutions take bands small enough (about
    // 128K floats, or an equal share of the lines per thread when that is smaller) that the
    // columns stay in the L2 cache while the GEMM packs them, and whole bands go to separate
    // threads (each with its own columns: im2col and the product in one dispatch); smaller ones
    // take bands of up to about 256K floats (1 MiB of scratch, bounding peak memory), and im2col
    // and the GEMM split each band across the threads. Bands are whole pairs of GEMM slivers
    // when they can be (`wholeTilePairs`).
    let outW = cube.output[2]
    let lineCount = cube.output[0] * cube.output[1]
    let share = (lineCount + threads - 1) / threads
    let cacheBand = Self.wholeTilePairs(max(1, min(share, (1 << 17) / max(1, depth * outW))), outW: outW)
    // Every band, the last one too, must take the blocked product (the direct loops of small
    // products sum in another order), so that the bits do not depend on the thread count.
    let lastBand = lineCount - (lineCount - 1) / cacheBand * cacheBand
    let workers =
      threads > 1 && lineCount >= threads && groupOut * depth * outSpatial >= 1 << 20
        && NeuralNetworkGEMM.isBlocked(m: groupOut, n: lastBand * outW, k: depth) ? threads : 1
    let singleBand = Self.wholeTilePairs(max(1, min(lineCount, (1 << 18) / max(1, depth * outW))), outW: outW)
    let band = workers > 1 ? cacheBand : singleBand
    let bandCount = (lineCount + band - 1) / band
    let inner = workers > 1 ? 1 : threads
    // Each output channel's normalization and activation, for the GEMM to apply as it stores.
    let kernelEpilogues = epilogue.flatMap { epilogue -> UnsafeMutablePointer<qat_float_epilogue>? in
      guard epilogue.normalization != nil || epilogue.activation != nil else { return nil }
      let table = UnsafeMutablePointer<qat_float_epilogue>.allocate(capacity: outChannels)
      for channel in 0..<outChannels { (table + channel).initialize(to: epilogue.kernelEpilogue(channel: channel)) }
      return table
    }
    defer { kernelEpilogues?.deallocate() }
    for batch in 0..<batches {
      for g in 0..<group {
        let xg = px + (batch * channels + g * groupChannels) * inSpatial
        let weights = NeuralNetworkMatrix(pw + g * groupOut * depth, rowStride: depth)
        let yg = py + (batch * outChannels + g * groupOut) * outSpatial
        // Every element starts as its bias (or 0), written by the products' first K block.
        let start = GEMMStart.overwrite(pb.map { $0 + g * groupOut })
        // The normalization and activation go to the GEMM, which applies them to each tile as it
        // stores the last K block; a fused fake-quant pair follows on output columns `columns` of
        // every channel of the group (called by the GEMM's threads for the columns each has
        // finished).
        let epilogues = kernelEpilogues.map { GEMMRowEpilogues(values: $0 + g * groupOut) }
        let finish: ((Range<Int>) -> Void)? = epilogue.flatMap { epilogue in
          guard epilogue.fakeQuantization != nil else { return nil }
          return { (columns: Range<Int>) in
            for channel in 0..<groupOut {
              epilogue.applyFakeQuantization(to: yg + channel * outSpatial + columns.lowerBound, count: columns.count)
            }
          }
        }
        // The weights are packed once for all the bands (kept across runs by a planned step).
        let packed =
          packing.map { $0.packed(w, raw: rawW, group: g, groups: group, m: groupOut, k: depth) }
          ?? (!pointwise ? NeuralNetworkPackedA(weights, m: groupOut, k: depth) : nil)
        if pointwise {
          NeuralNetworkGEMM.multiply(
            m: groupOut, n: outSpatial, k: depth, a: weights, b: NeuralNetworkMatrix(xg, rowStride: inSpatial), c: yg,
            ldc: outSpatial, threads: threads, packed: packed, start: start, epilogues: epilogues, finish: finish)
          continue
        }
        // A band's columns go straight into the GEMM's packed layout when the product takes the
        // blocked path (same bits: packing only moves values), else im2col then the product.
        let bands = { (worker: Int) in
          let count = max(depth * band * outW, NeuralNetworkPackedB(k: depth, n: band * outW).count)
          let lease = ThreadScratch.lease(ThreadScratch.convColumns, count: count)
          defer { lease.release() }
          let columns = lease.pointer
          for index in (worker * bandCount / workers)..<((worker + 1) * bandCount / workers) {
            let lines = (index * band)..<min(lineCount, (index + 1) * band)
            let width = lines.count * outW
            let target = yg + lines.lowerBound * outW
            // The band's columns `columns` are output columns `first + columns`.
            let first = lines.lowerBound * outW
            let bandFinish = finish.map { finish in
              { (columns: Range<Int>) in finish((first + columns.lowerBound)..<(first + columns.upperBound)) }
            }
            if let packed, NeuralNetworkGEMM.isBlocked(m: groupOut, n: width, k: depth) {
              let layout = NeuralNetworkPackedB(k: depth, n: width)
              Im2col.expandPacked(
                xg, channels: groupChannels, geometry: cube, lines: lines, into: columns, layout: layout,
                threads: inner)
              NeuralNetworkGEMM.multiplyPacked(
                m: groupOut, a: packed, b: columns, layout: layout, c: target, ldc: outSpatial, threads: inner,
                start: start, epilogues: epilogues, finish: bandFinish)
            } else {
              Im2col.expand(xg, channels: groupChannels, geometry: cube, lines: lines, into: columns, threads: inner)
              NeuralNetworkGEMM.multiply(
                m: groupOut, n: width, k: depth, a: weights, b: NeuralNetworkMatrix(columns, rowStride: width),
                c: target, ldc: outSpatial, threads: inner, packed: packed, start: start, epilogues: epilogues,
                finish: bandFinish)
            }
          }
        }
        if workers > 1 {
          ParallelWork.perform(iterations: workers, execute: bands)
        } else {
          bands(0)
        }
      }
    }
    return [NeuralNetworkFloat.output(result, as: rawX.dataType)]
  }

  /// `lines` output lines of `outW` columns, rounded down (when that leaves at least one) to a
  /// multiple of the lines whose columns fill whole pairs of GEMM slivers (`2 * nr` columns), so
  /// that the AVX-512 macro-kernel takes every tile two slivers wide.
  static func wholeTilePairs(_ lines: Int, outW: Int) -> Int {
    let pair = 2 * NeuralNetworkGEMM.nr
    var divisor = pair
    var w = outW
    while w % 2 == 0 && divisor > 1 {
      w /= 2
      divisor /= 2
    }
    // `divisor` lines of `outW` columns make a multiple of `pair` columns.
    return lines >= divisor ? lines / divisor * divisor : lines
  }
}
