import Foundation

/// MaxPool on int8 and uint8 without the Indices output over 1 or 2 spatial axes, separably: for
/// every input row, the maximum of the kernel columns inside X at each output column, then for
/// every output row the maximum of those row maxima over the kernel rows inside X. The maximum
/// of integers does not depend on grouping or order, so this equals the generic loop (the
/// first tap inside X, then any larger one), and a window with no tap inside X gives the type's
/// minimum as in the generic loop. Planes are split across threads when large.
enum MaxPoolBytes {
  /// The pooled tensor, or nil for 3 spatial axes (the generic loop runs instead).
  static func run<T: FixedWidthInteger>(
    _ x: HostTensor, _: T.Type, planes: Int, outputShape: [Int], geometry g: WindowGeometry, threads: Int
  ) -> HostTensor? {
    guard g.input[0] == 1, g.kernel[0] == 1, g.output[0] == 1 else { return nil }
    let (inH, inW) = (g.input[1], g.input[2])
    let (outH, outW) = (g.output[1], g.output[2])
    let (strideH, strideW) = (g.strides[1], g.strides[2])
    let (padH, padW) = (g.padsBegin[1], g.padsBegin[2])
    let (dilationH, dilationW) = (g.dilations[1], g.dilations[2])
    let (kernelH, kernelW) = (g.kernel[1], g.kernel[2])
    let result = HostTensor(uninitialized: x.dataType, shape: outputShape)
    let source = x.pointer(T.self)
    let target = result.pointer(T.self)
    let body = { (worker: Int, workers: Int) in
      let rows = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(1, inH * outW))
      defer { rows.deallocate() }
      for plane in (planes * worker / workers)..<(planes * (worker + 1) / workers) {
        let image = source + plane * inH * inW
        for ih in 0..<inH {
          let line = image + ih * inW
          for ow in 0..<outW {
            var best = T.min
            for kw in 0..<kernelW {
              let iw = ow * strideW - padW + kw * dilationW
              if iw >= 0 && iw < inW { best = Swift.max(best, line[iw]) }
            }
            rows[ih * outW + ow] = best
          }
        }
        let output = target + plane * outH * outW
        for oh in 0..<outH {
          let line = output + oh * outW
          line.update(repeating: T.min, count: outW)
          for kh in 0..<kernelH {
            let ih = oh * strideH - padH + kh * dilationH
            guard ih >= 0, ih < inH else { continue }
            let maxima = rows + ih * outW
            for ow in 0..<outW { line[ow] = Swift.max(line[ow], maxima[ow]) }
          }
        }
      }
    }
    let workers = threads > 1 && planes > 1 && planes * inH * inW >= 1 << 16 ? Swift.min(threads, planes) : 1
    if workers > 1 {
      DispatchQueue.concurrentPerform(iterations: workers) { body($0, workers) }
    } else {
      body(0, 1)
    }
    return result
  }
}
