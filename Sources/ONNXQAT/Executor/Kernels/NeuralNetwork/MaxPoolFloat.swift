import Foundation

/// MaxPool on float32 without the Indices output: the same window walk as the generic
/// `PoolingKernel` loop (the first tap inside X, then any larger one; -infinity for a window
/// with no tap inside), specialized for Float and split by planes across threads when large.
enum MaxPoolFloat {
  static func run(
    _ px: UnsafePointer<Float>, _ py: UnsafeMutablePointer<Float>, planes: Int, geometry g: WindowGeometry,
    threads: Int
  ) {
    let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
    let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
    let inSpatial = inD * inH * inW
    let outSpatial = outD * outH * outW
    let (kernelD, kernelH, kernelW) = (g.kernel[0], g.kernel[1], g.kernel[2])
    let (strideD, strideH, strideW) = (g.strides[0], g.strides[1], g.strides[2])
    let (padD, padH, padW) = (g.padsBegin[0], g.padsBegin[1], g.padsBegin[2])
    let (dilationD, dilationH, dilationW) = (g.dilations[0], g.dilations[1], g.dilations[2])
    let body = { (plane: Int) in
      let image = px + plane * inSpatial
      var out = plane * outSpatial
      for od in 0..<outD {
        for oh in 0..<outH {
          for ow in 0..<outW {
            var best = -Float.infinity
            var found = false
            for kd in 0..<kernelD {
              let id = od * strideD - padD + kd * dilationD
              if id < 0 || id >= inD { continue }
              for kh in 0..<kernelH {
                let ih = oh * strideH - padH + kh * dilationH
                if ih < 0 || ih >= inH { continue }
                let line = image + (id * inH + ih) * inW
                for kw in 0..<kernelW {
                  let iw = ow * strideW - padW + kw * dilationW
                  if iw < 0 || iw >= inW { continue }
                  let value = line[iw]
                  if !found || value > best {
                    best = value
                    found = true
                  }
                }
              }
            }
            py[out] = best
            out += 1
          }
        }
      }
    }
    if threads > 1 && planes >= 2 && planes * outSpatial * kernelD * kernelH * kernelW >= 1 << 16 {
      DispatchQueue.concurrentPerform(iterations: threads) { worker in
        for plane in (worker * planes / threads)..<((worker + 1) * planes / threads) { body(plane) }
      }
    } else {
      for plane in 0..<planes { body(plane) }
    }
  }
}
