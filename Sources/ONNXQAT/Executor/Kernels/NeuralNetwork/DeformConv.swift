import Foundation

/// DeformConv (opsets 19, 22): 2-D convolution whose kernel taps are displaced per output
/// position by learned offsets and optionally scaled by a mask:
///
///     Y[n, m, o] = B[m] + sum_{c, k} W[m, c, k] * mask[n, g', k, o]
///                         * bilinear(X[n, c], o*s - pad_begin + k*d + offset[n, g', k, o])
///
/// where g' is the input channel's offset group (`offset_group`), offsets hold (dy, dx) per tap
/// (offset [N, offset_group * kH * kW * 2, oH, oW]), bilinear sampling reads 0 outside the
/// image, and `group` splits channels as in Conv. Each group is a deformable im2col matrix times
/// the group's weights through the shared GEMM. Float32 (double, float16 and bfloat16 through
/// float32).
enum DeformConvKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let raw = try context.input(0)
    let x = try NeuralNetworkFloat.input(context, 0, "X")
    let w = try NeuralNetworkFloat.input(context, 1, "W")
    let offset = try NeuralNetworkFloat.input(context, 2, "offset")
    let bias = try NeuralNetworkFloat.optionalInput(context, 3, "B")
    let mask = try NeuralNetworkFloat.optionalInput(context, 4, "mask")
    guard x.rank == 4, w.rank == 4, offset.rank == 4 else {
      throw context.failure(
        "inputs 'X' \(x.shape), 'W' \(w.shape), 'offset' \(offset.shape); expected 2-D images [N, C, H, W]")
    }
    let (batches, channels, inH, inW) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (outChannels, groupChannels, kH, kW) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let group = context.int("group", default: 1)
    let offsetGroups = context.int("offset_group", default: 1)
    guard group > 0, groupChannels * group == channels, outChannels % group == 0, offsetGroups > 0,
      channels % offsetGroups == 0
    else {
      throw context.failure(
        "input 1 'W' has shape \(w.shape); expected \(group > 0 ? channels / group : channels) input channels for "
          + "group \(group), and \(channels) channels divisible by offset_group \(offsetGroups)")
    }
    let strides = context.ints("strides").flatMap { $0.isEmpty ? nil : $0 } ?? [1, 1]
    let dilations = context.ints("dilations").flatMap { $0.isEmpty ? nil : $0 } ?? [1, 1]
    let pads = context.ints("pads").flatMap { $0.isEmpty ? nil : $0 } ?? [0, 0, 0, 0]
    guard strides.count == 2, dilations.count == 2, pads.count == 4 else {
      throw context.failure("strides \(strides), dilations \(dilations), pads \(pads); expected 2, 2 and 4 values")
    }
    let outH = (inH + pads[0] + pads[2] - (kH - 1) * dilations[0] - 1) / strides[0] + 1
    let outW = (inW + pads[1] + pads[3] - (kW - 1) * dilations[1] - 1) / strides[1] + 1
    let taps = kH * kW
    guard outH > 0, outW > 0, offset.shape == [batches, offsetGroups * taps * 2, outH, outW] else {
      throw context.failure(
        "input 2 'offset' has shape \(offset.shape); expected [\(batches), \(offsetGroups * taps * 2), \(outH), \(outW)]"
      )
    }
    if let mask, mask.shape != [batches, offsetGroups * taps, outH, outW] {
      throw context.failure(
        "input 4 'mask' has shape \(mask.shape); expected [\(batches), \(offsetGroups * taps), \(outH), \(outW)]")
    }
    if let bias, bias.count != outChannels {
      throw context.failure("input 3 'B' has shape \(bias.shape); expected [\(outChannels)]")
    }
    let outSpatial = outH * outW
    let result = HostTensor(zeros: .float, shape: [batches, outChannels, outH, outW])
    let py = result.pointer(Float.self)
    if let bias {
      let pb = bias.pointer(Float.self)
      for plane in 0..<(batches * outChannels) {
        for i in 0..<outSpatial { py[plane * outSpatial + i] = pb[plane % outChannels] }
      }
    }
    let px = x.pointer(Float.self)
    let po = offset.pointer(Float.self)
    let pm = mask?.pointer(Float.self)
    let pw = UnsafePointer(w.pointer(Float.self))
    let depth = groupChannels * taps
    let groupOut = outChannels / group
    let perOffsetGroup = channels / offsetGroups
    let columns = UnsafeMutablePointer<Float>.allocate(capacity: max(1, depth * outSpatial))
    defer { columns.deallocate() }
    let threads = NeuralNetworkFloat.threads(context)
    for n in 0..<batches {
      for g in 0..<group {
        for local in 0..<groupChannels {
          let c = g * groupChannels + local
          let og = c / perOffsetGroup
          let image = px + (n * channels + c) * inH * inW
          for tap in 0..<taps {
            let (i, j) = (tap / kW, tap % kW)
            let dyPlane = po + ((n * offsetGroups + og) * taps * 2 + tap * 2) * outSpatial
            let dxPlane = dyPlane + outSpatial
            let maskPlane = pm.map { $0 + ((n * offsetGroups + og) * taps + tap) * outSpatial }
            let row = columns + (local * taps + tap) * outSpatial
            for oh in 0..<outH {
              for ow in 0..<outW {
                let o = oh * outW + ow
                let y = Float(oh * strides[0] - pads[0] + i * dilations[0]) + dyPlane[o]
                let xx = Float(ow * strides[1] - pads[1] + j * dilations[1]) + dxPlane[o]
                var value = bilinear(image, inH, inW, y, xx)
                if let maskPlane { value *= maskPlane[o] }
                row[o] = value
              }
            }
          }
        }
        NeuralNetworkGEMM.multiply(
          m: groupOut, n: outSpatial, k: depth, a: NeuralNetworkMatrix(pw + g * groupOut * depth, rowStride: depth),
          b: NeuralNetworkMatrix(columns, rowStride: outSpatial), c: py + (n * outChannels + g * groupOut) * outSpatial,
          ldc: outSpatial, threads: threads)
      }
    }
    return [NeuralNetworkFloat.output(result, as: raw.dataType)]
  }

  /// Bilinear sample of `image` at (y, x), reading 0 outside it.
  @inline(__always)
  private static func bilinear(_ image: UnsafePointer<Float>, _ height: Int, _ width: Int, _ y: Float, _ x: Float)
    -> Float
  {
    guard y > -1, y < Float(height), x > -1, x < Float(width) else { return 0 }
    let y0 = Int(y.rounded(.down))
    let x0 = Int(x.rounded(.down))
    let ly = y - Float(y0)
    let lx = x - Float(x0)
    func pixel(_ row: Int, _ column: Int) -> Float {
      row >= 0 && row < height && column >= 0 && column < width ? image[row * width + column] : 0
    }
    return (1 - ly) * (1 - lx) * pixel(y0, x0) + (1 - ly) * lx * pixel(y0, x0 + 1) + ly * (1 - lx) * pixel(y0 + 1, x0)
      + ly * lx * pixel(y0 + 1, x0 + 1)
  }
}
