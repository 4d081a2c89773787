import CIntegerKernels
import Foundation

/// Depthwise convolution (Conv with one input channel per group): a direct loop per output
/// channel over the zero-padded input, `Y[n, m, o] = B[m] + S`, where `S` starts at 0 and takes
/// one fused multiply-add `S = fma(W[m, 0, k], Xpad[n, m / (M/C), o*s + k*d], S)` per kernel tap in
/// order (kd, kh, kw), the taps in the padding included (they read 0). That is the order and the
/// rounding of a Conv through im2col and the GEMM's fused macro-kernel (`qat_gemm_float_block`),
/// so a depthwise channel gives the bits of the same channel as a one-channel Conv. No im2col.
///
/// Planes with one depth slice (1-D and 2-D convolutions) run through the C kernel
/// `qat_depthwise_plane_f32` (CIntegerKernels: a zero-padded copy in per-thread scratch, then
/// AVX2 + FMA eight output columns per vector, a portable loop otherwise); true 3-D planes take
/// the Swift loop below, one output element at a time. The (image, channel) planes are split
/// into contiguous ranges across `threads` threads. A fused epilogue's normalization and
/// activation are applied by the C kernel as it stores each output vector (the same float32
/// operations in the same order, so the same bits), its fake-quant pair after the plane.
enum DepthwiseConv {
  /// Writes every element of `y` [N, M, output...] from `x` [N, C, input...], `w` [M, 1, kernel...]
  /// and the optional bias `bias` [M], then applies `epilogue` (output channel m's) to each plane
  /// as soon as it is summed, on the thread that summed it.
  static func run(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
    batches: Int, channels: Int, outChannels: Int, geometry g: WindowGeometry, threads: Int,
    epilogue: FusedEpilogue? = nil
  ) {
    let multiplier = outChannels / channels
    let inSpatial = g.input.reduce(1, *)
    let outSpatial = g.output.reduce(1, *)
    let kernelVolume = g.kernel.reduce(1, *)
    let planar = planeGeometry(g)
    forEachPlaneRange(planes: batches * outChannels, work: outSpatial * kernelVolume, threads: threads) { planes in
      let padded = planar.map { geometry in
        var copy = geometry
        return ThreadScratch.lease(ThreadScratch.depthwisePlane, count: qat_depthwise_f32_scratch_floats(&copy))
      }
      defer { padded?.release() }
      for (index, plane) in planes.enumerated() {
        let oc = plane % outChannels
        let image = x + (plane / outChannels * channels + oc / multiplier) * inSpatial
        let weights = w + oc * kernelVolume
        let target = y + plane * outSpatial
        let start = bias?[oc] ?? 0
        if var planar, let scratch = padded?.pointer {
          // After the range's first plane the scratch's padding is already zero.
          var fused = epilogue?.kernelEpilogue(channel: oc) ?? FusedEpilogue.noKernelEpilogue
          qat_depthwise_plane_f32_fused(image, weights, start, target, &planar, scratch, index > 0 ? 1 : 0, &fused)
          epilogue?.applyFakeQuantization(to: target, count: outSpatial)
        } else {
          volume(image, weights: weights, bias: start, into: target, geometry: g)
          epilogue?.apply(channel: oc, to: target, count: outSpatial)
        }
      }
    }
  }

  /// The C kernel's geometry for `g` (three spatial axes) when its depth axis is a single slice
  /// with a one-deep kernel and no depth padding; nil for a true 3-D convolution.
  static func planeGeometry(_ g: WindowGeometry) -> qat_depthwise_geometry? {
    guard g.input[0] == 1, g.kernel[0] == 1, g.output[0] == 1, g.padsBegin[0] == 0 else { return nil }
    return qat_depthwise_geometry(
      in_h: Int32(g.input[1]), in_w: Int32(g.input[2]), out_h: Int32(g.output[1]), out_w: Int32(g.output[2]),
      kernel_h: Int32(g.kernel[1]), kernel_w: Int32(g.kernel[2]), stride_h: Int32(g.strides[1]),
      stride_w: Int32(g.strides[2]), dilation_h: Int32(g.dilations[1]), dilation_w: Int32(g.dilations[2]),
      pad_top: Int32(g.padsBegin[1]), pad_left: Int32(g.padsBegin[2]))
  }

  /// Calls `body` with contiguous ranges covering `0..<planes`: one range per thread when the
  /// planes hold enough work (`planes * work` multiply-adds of at least 2^16), else one range.
  static func forEachPlaneRange(planes: Int, work: Int, threads: Int, body: (Range<Int>) -> Void) {
    let workers = threads > 1 && planes > 1 && planes * work > 1 << 16 ? min(threads, planes) : 1
    if workers == 1 {
      body(0..<planes)
      return
    }
    ParallelWork.perform(iterations: workers) { worker in
      body((planes * worker / workers)..<(planes * (worker + 1) / workers))
    }
  }

  /// One 3-D plane, one output element at a time: `bias + S`, `S` the fused multiply-adds of
  /// every tap from 0, a tap in the padding reading 0.
  private static func volume(
    _ image: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: Float,
    into target: UnsafeMutablePointer<Float>, geometry g: WindowGeometry
  ) {
    var index = 0
    for od in 0..<g.output[0] {
      for oh in 0..<g.output[1] {
        for ow in 0..<g.output[2] {
          var sum: Float = 0
          var tap = 0
          for kd in 0..<g.kernel[0] {
            let id = od * g.strides[0] - g.padsBegin[0] + kd * g.dilations[0]
            for kh in 0..<g.kernel[1] {
              let ih = oh * g.strides[1] - g.padsBegin[1] + kh * g.dilations[1]
              for kw in 0..<g.kernel[2] {
                let iw = ow * g.strides[2] - g.padsBegin[2] + kw * g.dilations[2]
                let inside =
                  id >= 0 && id < g.input[0] && ih >= 0 && ih < g.input[1] && iw >= 0 && iw < g.input[2]
                let value = inside ? image[(id * g.input[1] + ih) * g.input[2] + iw] : 0
                sum.addProduct(weights[tap], value)
                tap += 1
              }
            }
          }
          target[index] = bias + sum
          index += 1
        }
      }
    }
  }
}
