import CIntegerKernels
import Foundation

/// MaxPool on float32 without the Indices output: the same window walk as the generic
/// `PoolingKernel` loop (the first tap inside X, then any larger one; -infinity for a window
/// with no tap inside), split by planes across threads when large. Over 1 or 2 spatial axes it
/// runs the C kernel `qat_maxpool_f32` (CIntegerKernels: row maxima then column maxima, AVX2
/// eight columns per vector, planes with a NaN where the grouping would matter walked window by
/// window); over 3 axes the Swift loop below, eight output columns at a time where the window
/// rows are inside X.
enum MaxPoolFloat {
  typealias Lanes = SIMD8<Float>

  static func run(
    _ px: UnsafePointer<Float>, _ py: UnsafeMutablePointer<Float>, planes: Int, geometry g: WindowGeometry,
    threads: Int
  ) {
    if let planar = DepthwiseConv.planeGeometry(g) {
      let (planeIn, planeOut) = (g.input.reduce(1, *), g.output.reduce(1, *))
      PoolingKernel.forEachPlaneRange(planes: planes, geometry: planar, elementSize: 4, threads: threads) {
        range, scratch in
        var geometry = planar
        qat_maxpool_f32(
          px + range.lowerBound * planeIn, py + range.lowerBound * planeOut, Int32(range.count), &geometry, scratch)
      }
      return
    }
    volume(px, py, planes: planes, geometry: g, threads: threads)
  }

  /// The Swift loop for three spatial axes.
  private static func volume(
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
    // Output columns whose kw taps are all inside the row go eight at a time (strides 1 and 2;
    // stride 2 loads 16 floats for 8 columns, so the column after the last must be inside too).
    var inside = 0..<outW
    for kw in 0..<kernelW { inside = inside.clamped(to: g.validOutputs(axis: 2, offset: kw * dilationW)) }
    let vectorEnd = strideW == 1 ? inside.upperBound : strideW == 2 ? inside.upperBound - 1 : 0
    let body = { (plane: Int) in
      let image = px + plane * inSpatial
      for od in 0..<outD {
        for oh in 0..<outH {
          let target = py + plane * outSpatial + (od * outH + oh) * outW
          var ow = 0
          while ow < outW {
            if ow >= inside.lowerBound && ow + Lanes.scalarCount <= vectorEnd {
              // Per lane the same walk as below: the first tap, then any larger one.
              var best = Lanes(repeating: -.infinity)
              var found = false
              for kd in 0..<kernelD {
                let id = od * strideD - padD + kd * dilationD
                if id < 0 || id >= inD { continue }
                for kh in 0..<kernelH {
                  let ih = oh * strideH - padH + kh * dilationH
                  if ih < 0 || ih >= inH { continue }
                  let source = image + (id * inH + ih) * inW + ow * strideW - padW
                  for kw in 0..<kernelW {
                    let start = UnsafeRawPointer(source + kw * dilationW)
                    let value =
                      strideW == 1
                      ? start.loadUnaligned(as: Lanes.self) : start.loadUnaligned(as: SIMD16<Float>.self).evenHalf
                    if found {
                      best.replace(with: value, where: value .> best)
                    } else {
                      best = value
                      found = true
                    }
                  }
                }
              }
              UnsafeMutableRawPointer(target + ow).storeBytes(of: best, as: Lanes.self)
              ow += Lanes.scalarCount
              continue
            }
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
            target[ow] = best
            ow += 1
          }
        }
      }
    }
    if threads > 1 && planes >= 2 && planes * outSpatial * kernelD * kernelH * kernelW >= 1 << 16 {
      ParallelWork.perform(iterations: planes, execute: body)
    } else {
      for plane in 0..<planes { body(plane) }
    }
  }
}
