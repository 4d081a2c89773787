import Foundation

/// Depthwise convolution (Conv with one input channel per group): a direct loop per output
/// channel, `Y[n, m, o] += W[m, 0, k] * X[n, m / (M/C), o*s - pad + k*d]` over the kernel taps
/// (no im2col). Each output element adds its taps in order (kd, kh, kw), skipping taps in the
/// padding, to the bias already in Y; along each output row, the columns whose taps all fall
/// inside the input row go eight at a time (SIMD, strides 1 and 2; the same sums in the same
/// order). Channels run on `threads` threads.
enum DepthwiseConv {
  typealias Lanes = SIMD8<Float>

  static func run(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, batches: Int, channels: Int,
    outChannels: Int, geometry g: WindowGeometry, threads: Int
  ) {
    let multiplier = outChannels / channels
    let inSpatial = g.input.reduce(1, *)
    let outSpatial = g.output.reduce(1, *)
    let kernelVolume = g.kernel.reduce(1, *)
    let (inH, inW) = (g.input[1], g.input[2])
    let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
    let (kernelD, kernelH, kernelW) = (g.kernel[0], g.kernel[1], g.kernel[2])
    let rangesD = (0..<kernelD).map { g.validOutputs(axis: 0, offset: $0 * g.dilations[0]) }
    let rangesH = (0..<kernelH).map { g.validOutputs(axis: 1, offset: $0 * g.dilations[1]) }
    // Output columns where every kw tap is inside the row.
    var inside = 0..<outW
    for kw in 0..<kernelW { inside = inside.clamped(to: g.validOutputs(axis: 2, offset: kw * g.dilations[2])) }
    let strideW = g.strides[2]
    let dilationW = g.dilations[2]
    // Stride 2 loads 16 floats for 8 columns: the column after the last must be inside too.
    let vectorEnd = strideW == 1 ? inside.upperBound : strideW == 2 ? inside.upperBound - 1 : 0
    let planes = batches * outChannels
    let body = { (plane: Int) in
      let batch = plane / outChannels
      let oc = plane % outChannels
      let image = x + (batch * channels + oc / multiplier) * inSpatial
      let target = y + plane * outSpatial
      let weights = w + oc * kernelVolume
      for od in 0..<outD {
        let id0 = od * g.strides[0] - g.padsBegin[0]
        for oh in 0..<outH {
          let ih0 = oh * g.strides[1] - g.padsBegin[1]
          let line = target + (od * outH + oh) * outW
          // Column ow of tap (kd, kh, kw) reads source[ow * strideW + kw * dilationW] of its row.
          @inline(__always) func row(_ kd: Int, _ kh: Int) -> UnsafePointer<Float> {
            image + ((id0 + kd * g.dilations[0]) * inH + ih0 + kh * g.dilations[1]) * inW - g.padsBegin[2]
          }
          var ow = 0
          while ow < outW {
            if ow >= inside.lowerBound && ow + Lanes.scalarCount <= vectorEnd {
              var sum = UnsafeRawPointer(line + ow).loadUnaligned(as: Lanes.self)
              for kd in 0..<kernelD where rangesD[kd].contains(od) {
                for kh in 0..<kernelH where rangesH[kh].contains(oh) {
                  let source = row(kd, kh) + ow * strideW
                  for kw in 0..<kernelW {
                    let weight = weights[(kd * kernelH + kh) * kernelW + kw]
                    let start = UnsafeRawPointer(source + kw * dilationW)
                    let values =
                      strideW == 1
                      ? start.loadUnaligned(as: Lanes.self) : start.loadUnaligned(as: SIMD16<Float>.self).evenHalf
                    sum += weight * values
                  }
                }
              }
              UnsafeMutableRawPointer(line + ow).storeBytes(of: sum, as: Lanes.self)
              ow += Lanes.scalarCount
              continue
            }
            var sum = line[ow]
            for kd in 0..<kernelD where rangesD[kd].contains(od) {
              for kh in 0..<kernelH where rangesH[kh].contains(oh) {
                let source = row(kd, kh) + ow * strideW
                for kw in 0..<kernelW {
                  let iw = ow * strideW - g.padsBegin[2] + kw * dilationW
                  if iw < 0 || iw >= inW { continue }
                  sum += weights[(kd * kernelH + kh) * kernelW + kw] * source[kw * dilationW]
                }
              }
            }
            line[ow] = sum
            ow += 1
          }
        }
      }
    }
    if threads > 1 && planes > 1 && planes * outSpatial * kernelVolume > 1 << 16 {
      DispatchQueue.concurrentPerform(iterations: threads) { worker in
        for plane in (worker * planes / threads)..<((worker + 1) * planes / threads) { body(plane) }
      }
    } else {
      for plane in 0..<planes { body(plane) }
    }
  }
}
