import Foundation

/// Depthwise convolution (Conv with one input channel per group): a direct loop per output
/// channel, `Y[n, m, o] += W[m, 0, k] * X[n, m / (M/C), o*s - pad + k*d]` over the kernel taps,
/// each tap applied to the output range it covers (no im2col). Channels run on `threads` threads.
enum DepthwiseConv {
  static func run(
    x: UnsafePointer<Float>, w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, batches: Int, channels: Int,
    outChannels: Int, geometry g: WindowGeometry, threads: Int
  ) {
    let multiplier = outChannels / channels
    let inSpatial = g.input.reduce(1, *)
    let outSpatial = g.output.reduce(1, *)
    let kernelVolume = g.kernel.reduce(1, *)
    let (inH, inW) = (g.input[1], g.input[2])
    let (outH, outW) = (g.output[1], g.output[2])
    let planes = batches * outChannels
    let body = { (plane: Int) in
      let batch = plane / outChannels
      let oc = plane % outChannels
      let image = x + (batch * channels + oc / multiplier) * inSpatial
      let target = y + plane * outSpatial
      var tap = 0
      for kd in 0..<g.kernel[0] {
        let rangeD = g.validOutputs(axis: 0, offset: kd * g.dilations[0])
        for kh in 0..<g.kernel[1] {
          let rangeH = g.validOutputs(axis: 1, offset: kh * g.dilations[1])
          for kw in 0..<g.kernel[2] {
            let weight = w[oc * kernelVolume + tap]
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
                if strideW == 1 {
                  for ow in rangeW { line[ow] += weight * source[ow] }
                } else if strideW == 2 {
                  // Eight columns from 16 loaded floats while column ow + 8 (so every float
                  // loaded) is inside the row: the same product and sum per column.
                  let factor = SIMD8<Float>(repeating: weight)
                  var ow = rangeW.lowerBound
                  while ow + 8 < rangeW.upperBound {
                    let target = UnsafeMutableRawPointer(line + ow)
                    let values = UnsafeRawPointer(source + ow * 2).loadUnaligned(as: SIMD16<Float>.self).evenHalf
                    target.storeBytes(
                      of: target.loadUnaligned(as: SIMD8<Float>.self) + factor * values, as: SIMD8<Float>.self)
                    ow += 8
                  }
                  while ow < rangeW.upperBound {
                    line[ow] += weight * source[ow * 2]
                    ow += 1
                  }
                } else {
                  for ow in rangeW { line[ow] += weight * source[ow * strideW] }
                }
              }
            }
          }
        }
      }
    }
    if threads > 1 && planes > 1 && planes * outSpatial * kernelVolume > 1 << 16 {
      DispatchQueue.concurrentPerform(iterations: planes, execute: body)
    } else {
      for plane in 0..<planes { body(plane) }
    }
  }
}
