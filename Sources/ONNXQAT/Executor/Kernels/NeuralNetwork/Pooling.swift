import CIntegerKernels
import Foundation

/// MaxPool (opsets 1-22), AveragePool (1-22) and LpPool (1-22) over 1-3 spatial axes:
///
///     MaxPool:     Y[n, c, o] = max over window taps inside X of X[n, c, o*s - pad_begin + k*d]
///     AveragePool: Y = sum over taps inside X / count, count = taps inside X
///                  (count_include_pad = 1: taps inside the explicitly padded extent)
///     LpPool:      Y = (sum over taps inside X of |X|^p)^(1/p)
///
/// with kernel_shape, strides, pads / auto_pad, dilations (MaxPool from 10, the others from 19),
/// ceil_mode (see `WindowGeometry`) and LpPool's p (a float at opset 1, an int later). MaxPool also takes int8 and uint8 inputs (opset 12) and
/// returns the optional Indices output: the flat index of the maximum in X (first one on ties),
/// row-major, or with the spatial axes column-major when storage_order = 1. Average and Lp pools
/// compute in float32 (double, float16 and bfloat16 converted).
enum PoolingKernel {
  enum Kind { case max, average, lp }

  static func maxPool(_ context: KernelContext) throws -> [HostTensor?] { try run(context, .max) }
  static func averagePool(_ context: KernelContext) throws -> [HostTensor?] { try run(context, .average) }
  static func lpPool(_ context: KernelContext) throws -> [HostTensor?] { try run(context, .lp) }

  static func run(_ context: KernelContext, _ kind: Kind) throws -> [HostTensor?] {
    let raw = try context.input(0)
    guard raw.rank >= 3, raw.rank <= 5 else {
      throw context.failure("input 0 'X' has shape \(raw.shape); expected [N, C, D1, ...] with 1 to 3 spatial axes")
    }
    guard let kernel = context.ints("kernel_shape"), kernel.count == raw.rank - 2 else {
      throw context.failure("kernel_shape \(context.ints("kernel_shape") ?? []); expected \(raw.rank - 2) values")
    }
    let ceilMode = context.int("ceil_mode", default: 0) != 0
    let geometry = try WindowGeometry(context, input: Array(raw.shape[2...]), kernel: kernel, ceilMode: ceilMode)
    let planes = raw.shape[0] * raw.shape[1]
    let outputShape = Array(raw.shape[0..<2]) + geometry.output
    let cube = geometry.asThreeDimensional
    switch kind {
    case .max:
      let storageOrder = context.int("storage_order", default: 0)
      let wantIndices = context.node.outputs.count > 1 && context.node.outputs[1] != nil
      switch raw.dataType {
      case .int8 where !wantIndices:
        if let result = MaxPoolBytes.run(
          raw, signed: true, planes: planes, outputShape: outputShape, geometry: cube,
          threads: NeuralNetworkFloat.threads(context))
        {
          return [result, nil]
        }
        return maxPool(raw, Int8.self, planes, outputShape, cube, storageOrder, wantIndices, lowest: .min)
      case .uint8 where !wantIndices:
        if let result = MaxPoolBytes.run(
          raw, signed: false, planes: planes, outputShape: outputShape, geometry: cube,
          threads: NeuralNetworkFloat.threads(context))
        {
          return [result, nil]
        }
        return maxPool(raw, UInt8.self, planes, outputShape, cube, storageOrder, wantIndices, lowest: .min)
      case .int8:
        return maxPool(raw, Int8.self, planes, outputShape, cube, storageOrder, wantIndices, lowest: .min)
      case .uint8:
        return maxPool(raw, UInt8.self, planes, outputShape, cube, storageOrder, wantIndices, lowest: .min)
      default:
        let x = try NeuralNetworkFloat.input(raw, "input 0 'X'", context)
        if !wantIndices {
          let result = HostTensor(uninitialized: .float, shape: outputShape)
          MaxPoolFloat.run(
            x.pointer(Float.self), result.pointer(Float.self), planes: planes, geometry: cube,
            threads: NeuralNetworkFloat.threads(context))
          return [NeuralNetworkFloat.output(result, as: raw.dataType), nil]
        }
        let outputs = maxPool(x, Float.self, planes, outputShape, cube, storageOrder, wantIndices, lowest: -.infinity)
        return [outputs[0].map { NeuralNetworkFloat.output($0, as: raw.dataType) }, outputs[1]]
      }
    case .average, .lp:
      let x = try NeuralNetworkFloat.input(raw, "input 0 'X'", context)
      let result = HostTensor(zeros: .float, shape: outputShape)
      if kind == .average {
        average(
          x.pointer(Float.self), result.pointer(Float.self), planes, cube,
          includePad: context.int("count_include_pad", default: 0) != 0)
      } else {
        lp(
          x.pointer(Float.self), result.pointer(Float.self), planes, cube,
          p: context.float("p") ?? Float(context.int("p", default: 2)))
      }
      return [NeuralNetworkFloat.output(result, as: raw.dataType)]
    }
  }

  /// Calls `body` with contiguous plane ranges covering `0..<planes` (one per thread when the
  /// pool is large) and, for each, scratch for the C MaxPool kernels with `planar` geometry and
  /// elements of `elementSize` bytes.
  static func forEachPlaneRange(
    planes: Int, geometry planar: qat_depthwise_geometry, elementSize: Int, threads: Int,
    body: (Range<Int>, UnsafeMutableRawPointer) -> Void
  ) {
    var geometry = planar
    let bytes = qat_maxpool_scratch_bytes(&geometry, elementSize)
    let work = Int(planar.out_h * planar.out_w * planar.kernel_h * planar.kernel_w)
    DepthwiseConv.forEachPlaneRange(planes: planes, work: work, threads: threads) { range in
      let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 16)
      defer { scratch.deallocate() }
      body(range, scratch)
    }
  }

  private static func maxPool<T: Comparable>(
    _ x: HostTensor, _: T.Type, _ planes: Int, _ outputShape: [Int], _ g: WindowGeometry, _ storageOrder: Int,
    _ wantIndices: Bool, lowest: T
  ) -> [HostTensor?] {
    let result = HostTensor(zeros: x.dataType, shape: outputShape)
    let indices = wantIndices ? HostTensor(zeros: .int64, shape: outputShape) : nil
    let px = x.pointer(T.self)
    let py = result.pointer(T.self)
    let pi = indices?.pointer(Int64.self)
    let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
    let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
    let inSpatial = inD * inH * inW
    let (kernelD, kernelH, kernelW) = (g.kernel[0], g.kernel[1], g.kernel[2])
    let (strideD, strideH, strideW) = (g.strides[0], g.strides[1], g.strides[2])
    let (padD, padH, padW) = (g.padsBegin[0], g.padsBegin[1], g.padsBegin[2])
    let (dilationD, dilationH, dilationW) = (g.dilations[0], g.dilations[1], g.dilations[2])
    var out = 0
    for plane in 0..<planes {
      let image = px + plane * inSpatial
      for od in 0..<outD {
        for oh in 0..<outH {
          for ow in 0..<outW {
            var best = lowest
            var bestIndex = -1
            for kd in 0..<kernelD {
              let id = od * strideD - padD + kd * dilationD
              if id < 0 || id >= inD { continue }
              for kh in 0..<kernelH {
                let ih = oh * strideH - padH + kh * dilationH
                if ih < 0 || ih >= inH { continue }
                let line = (id * inH + ih) * inW
                for kw in 0..<kernelW {
                  let iw = ow * strideW - padW + kw * dilationW
                  if iw < 0 || iw >= inW { continue }
                  let value = image[line + iw]
                  if bestIndex < 0 || value > best {
                    best = value
                    bestIndex = storageOrder == 0 ? line + iw : (iw * inH + ih) * inD + id
                  }
                }
              }
            }
            py[out] = best
            if let pi { pi[out] = Int64(plane * inSpatial + max(bestIndex, 0)) }
            out += 1
          }
        }
      }
    }
    return [result, indices]
  }

  private static func average(
    _ px: UnsafeMutablePointer<Float>, _ py: UnsafeMutablePointer<Float>, _ planes: Int, _ g: WindowGeometry,
    includePad: Bool
  ) {
    let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
    let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
    let inSpatial = inD * inH * inW
    let (kernelD, kernelH, kernelW) = (g.kernel[0], g.kernel[1], g.kernel[2])
    let (strideD, strideH, strideW) = (g.strides[0], g.strides[1], g.strides[2])
    let (padD, padH, padW) = (g.padsBegin[0], g.padsBegin[1], g.padsBegin[2])
    let (dilationD, dilationH, dilationW) = (g.dilations[0], g.dilations[1], g.dilations[2])
    let (endD, endH, endW) = (g.padsEnd[0], g.padsEnd[1], g.padsEnd[2])
    var out = 0
    for plane in 0..<planes {
      let image = px + plane * inSpatial
      for od in 0..<outD {
        for oh in 0..<outH {
          for ow in 0..<outW {
            var sum: Float = 0
            var count = 0
            var padded = 0
            for kd in 0..<kernelD {
              let id = od * strideD - padD + kd * dilationD
              if id < -padD || id >= inD + endD { continue }
              let insideD = id >= 0 && id < inD
              for kh in 0..<kernelH {
                let ih = oh * strideH - padH + kh * dilationH
                if ih < -padH || ih >= inH + endH { continue }
                let insideH = insideD && ih >= 0 && ih < inH
                for kw in 0..<kernelW {
                  let iw = ow * strideW - padW + kw * dilationW
                  if iw < -padW || iw >= inW + endW { continue }
                  padded += 1
                  if insideH && iw >= 0 && iw < inW {
                    sum += image[(id * inH + ih) * inW + iw]
                    count += 1
                  }
                }
              }
            }
            let divisor = includePad ? padded : count
            py[out] = divisor > 0 ? sum / Float(divisor) : 0
            out += 1
          }
        }
      }
    }
  }

  private static func lp(
    _ px: UnsafeMutablePointer<Float>, _ py: UnsafeMutablePointer<Float>, _ planes: Int, _ g: WindowGeometry, p: Float
  ) {
    let (inD, inH, inW) = (g.input[0], g.input[1], g.input[2])
    let (outD, outH, outW) = (g.output[0], g.output[1], g.output[2])
    let inSpatial = inD * inH * inW
    let (kernelD, kernelH, kernelW) = (g.kernel[0], g.kernel[1], g.kernel[2])
    let (strideD, strideH, strideW) = (g.strides[0], g.strides[1], g.strides[2])
    let (padD, padH, padW) = (g.padsBegin[0], g.padsBegin[1], g.padsBegin[2])
    let (dilationD, dilationH, dilationW) = (g.dilations[0], g.dilations[1], g.dilations[2])
    var out = 0
    for plane in 0..<planes {
      let image = px + plane * inSpatial
      for od in 0..<outD {
        for oh in 0..<outH {
          for ow in 0..<outW {
            var sum: Float = 0
            for kd in 0..<kernelD {
              let id = od * strideD - padD + kd * dilationD
              if id < 0 || id >= inD { continue }
              for kh in 0..<kernelH {
                let ih = oh * strideH - padH + kh * dilationH
                if ih < 0 || ih >= inH { continue }
                for kw in 0..<kernelW {
                  let iw = ow * strideW - padW + kw * dilationW
                  if iw < 0 || iw >= inW { continue }
                  let value = abs(image[(id * inH + ih) * inW + iw])
                  sum += p == 2 ? value * value : (p == 1 ? value : pow(value, p))
                }
              }
            }
            py[out] = p == 2 ? sum.squareRoot() : (p == 1 ? sum : pow(sum, 1 / p))
            out += 1
          }
        }
      }
    }
  }
}
