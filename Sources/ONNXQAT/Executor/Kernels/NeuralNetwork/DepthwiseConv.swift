import CIntegerKernels
import Foundation

/// Depthwise convolution (Conv with one input channel per group): a direct loop per output
/// channel, `Y[n, m, o] = B[m] + sum_k W[m, 0, k] * X[n, m / (M/C), o*s - pad + k*d]` over the
/// kernel taps inside the image, added in tap order (kd, kh, kw) one rounded product and one
/// rounded sum at a time (no fused multiply-add), so every path gives the same bits. No im2col.
///
/// Planes with one depth slice (1-D and 2-D convolutions) run through the C kernel
/// `qat_depthwise_plane_f32` (CIntegerKernels: AVX2 eight output columns per vector, a portable
/// loop otherwise), one output row at a time with the sums in registers; true 3-D planes take
/// the Swift loop below, one tap at a time over the plane. The (image, channel) planes are split
/// into contiguous ranges across `threads` threads.
enum DepthwiseConv {
  /// Writes every element of `y` [N, M, output...] from `x` [N, C, input...], `w` [M, 1, kernel...]
  /// and the optional bias `bias` [M]; `finish` (a fused epilogue) is called with each plane's
  /// index `n * M + m` and output as soon as the plane is summed, on the thread that summed it.
  static func run(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
    batches: Int, channels: Int, outChannels: Int, geometry g: WindowGeometry, threads: Int,
    finish: ((Int, UnsafeMutablePointer<Float>) -> Void)? = nil
  ) {
    let multiplier = outChannels / channels
    let inSpatial = g.input.reduce(1, *)
    let outSpatial = g.output.reduce(1, *)
    let kernelVolume = g.kernel.reduce(1, *)
    let planar = planeGeometry(g)
    forEachPlaneRange(planes: batches * outChannels, work: outSpatial * kernelVolume, threads: threads) { planes in
      for plane in planes {
        let oc = plane % outChannels
        let image = x + (plane / outChannels * channels + oc / multiplier) * inSpatial
        let weights = w + oc * kernelVolume
        let target = y + plane * outSpatial
        let start = bias?[oc] ?? 0
        if var planar {
          qat_depthwise_plane_f32(image, weights, start, target, &planar)
        } else {
          target.update(repeating: start, count: outSpatial)
          accumulateVolume(image, weights: weights, into: target, geometry: g)
        }
        finish?(plane, target)
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
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      body((planes * worker / workers)..<(planes * (worker + 1) / workers))
    }
  }

  /// Adds every kernel tap of one 3-D plane into `target` (holding the bias), one tap at a time
  /// over the whole plane.
  private static func accumulateVolume(
    _ image: UnsafePointer<Float>, weights: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>,
    geometry g: WindowGeometry
  ) {
    let (inH, inW) = (g.input[1], g.input[2])
    let (outH, outW) = (g.output[1], g.output[2])
    var tap = 0
    for kd in 0..<g.kernel[0] {
      let rangeD = g.validOutputs(axis: 0, offset: kd * g.dilations[0])
      for kh in 0..<g.kernel[1] {
        let rangeH = g.validOutputs(axis: 1, offset: kh * g.dilations[1])
        for kw in 0..<g.kernel[2] {
          let weight = weights[tap]
          tap += 1
          let rangeW = g.validOutputs(axis: 2, offset: kw * g.dilations[2])
          if rangeW.isEmpty { continue }
          let offsetW = kw * g.dilations[2] - g.padsBegin[2]
          let strideW = g.strides[2]
          for od in rangeD {
            let id = od * g.strides[0] - g.padsBegin[0] + kd * g.dilations[0]
            for oh in rangeH {
              let ih = oh * g.strides[1] - g.padsBegin[1] + kh * g.dilations[1]
              let source = image + (id * inH + ih) * inW + offsetW
              let line = target + (od * outH + oh) * outW
              for ow in rangeW { line[ow] += weight * source[ow * strideW] }
            }
          }
        }
      }
    }
  }
}
