import Foundation

/// ConvTranspose (opsets 1, 11, 22): the gradient of Conv with respect to its input, on float32
/// (double, float16 and bfloat16 through float32), for 1-3 spatial axes:
///
///     Y[n, g*M/G + m, i*s - pad_begin + k*d ...] += X[n, g*C/G + c, i...] * W[g*C/G + c, m, k...]
///
/// plus the optional bias. Output size per axis: `s * (in - 1) + output_padding + (k - 1) * d + 1
/// - pad_begin - pad_end`; with `output_shape` (or auto_pad SAME_*, whose output is `in * s`)
/// the total padding follows from the requested size and is split with the odd pixel at the end
/// for SAME_UPPER and at the beginning otherwise. Each group is `W_g^T * X_g` through the shared
/// GEMM followed by col2im.
enum ConvTransposeKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let rawX = try context.input(0)
    let x = try NeuralNetworkFloat.input(context, 0, "X")
    let w = try NeuralNetworkFloat.input(context, 1, "W")
    let bias = try NeuralNetworkFloat.optionalInput(context, 2, "B")
    guard x.rank >= 3, x.rank <= 5 else {
      throw context.failure("input 0 'X' has shape \(x.shape); expected [N, C, D1, ...] with 1 to 3 spatial axes")
    }
    guard w.rank == x.rank else {
      throw context.failure("input 1 'W' has shape \(w.shape); expected rank \(x.rank) like X \(x.shape)")
    }
    let rank = x.rank - 2
    let group = context.int("group", default: 1)
    let batches = x.shape[0]
    let channels = x.shape[1]
    guard group > 0, w.shape[0] == channels, channels % group == 0 else {
      throw context.failure("input 1 'W' has shape \(w.shape); expected \(channels) input channels (X \(x.shape))")
    }
    let groupChannels = channels / group
    let groupOut = w.shape[1]
    let outChannels = groupOut * group
    let kernel = Array(w.shape[2...])
    if let declared = context.ints("kernel_shape"), !declared.isEmpty, declared != kernel {
      throw context.failure("kernel_shape \(declared) does not match input 1 'W' \(w.shape)")
    }
    if let bias, bias.count != outChannels {
      throw context.failure("input 2 'B' has shape \(bias.shape); expected [\(outChannels)]")
    }
    let input = Array(x.shape[2...])
    let strides = nonEmpty(context.ints("strides"), rank, 1)
    let dilations = nonEmpty(context.ints("dilations"), rank, 1)
    let outputPadding = nonEmpty(context.ints("output_padding"), rank, 0)
    guard strides.count == rank, dilations.count == rank, outputPadding.count == rank,
      strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 })
    else {
      throw context.failure(
        "strides \(strides), dilations \(dilations), output_padding \(outputPadding); expected \(rank) values each")
    }
    let autoPad = context.string("auto_pad", default: "NOTSET")
    var padsBegin = [Int](repeating: 0, count: rank)
    var padsEnd = [Int](repeating: 0, count: rank)
    var output = [Int](repeating: 0, count: rank)
    var requested = context.ints("output_shape").map { Array($0.suffix(rank)) }
    if requested?.isEmpty == true { requested = nil }
    if requested == nil && (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      requested = (0..<rank).map { input[$0] * strides[$0] }
    }
    for axis in 0..<rank {
      let full = strides[axis] * (input[axis] - 1) + outputPadding[axis] + (kernel[axis] - 1) * dilations[axis] + 1
      if let requested {
        guard requested.count == rank else {
          throw context.failure("output_shape \(context.ints("output_shape") ?? []); expected \(rank) spatial sizes")
        }
        // Floor division as the reference: a negative total (output larger than the full
        // result) becomes padding at the end, like output_padding.
        let total = full - requested[axis]
        let half = total >= 0 ? total / 2 : -((-total + 1) / 2)
        padsBegin[axis] = autoPad == "SAME_UPPER" ? half : total - half
        padsEnd[axis] = total - padsBegin[axis]
        output[axis] = requested[axis]
      } else {
        if autoPad != "VALID", let pads = context.ints("pads"), !pads.isEmpty {
          guard pads.count == 2 * rank else { throw context.failure("pads \(pads); expected \(2 * rank) values") }
          padsBegin[axis] = pads[axis]
          padsEnd[axis] = pads[axis + rank]
        }
        output[axis] = full - padsBegin[axis] - padsEnd[axis]
      }
      guard output[axis] >= 0 else { throw context.failure("output spatial size \(output) is negative") }
    }
    let result = HostTensor(zeros: .float, shape: [batches, outChannels] + output)
    let outSpatial = output.reduce(1, *)
    let inSpatial = input.reduce(1, *)
    let kernelVolume = kernel.reduce(1, *)
    let py = result.pointer(Float.self)
    let px = UnsafePointer(x.pointer(Float.self))
    let pw = UnsafePointer(w.pointer(Float.self))
    let rows = groupOut * kernelVolume
    let columns = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows * inSpatial))
    defer { columns.deallocate() }
    let lead = 3 - rank
    let geometry = Col2im(
      input: Array(repeating: 1, count: lead) + input, output: Array(repeating: 1, count: lead) + output,
      kernel: Array(repeating: 1, count: lead) + kernel, strides: Array(repeating: 1, count: lead) + strides,
      dilations: Array(repeating: 1, count: lead) + dilations, padsBegin: Array(repeating: 0, count: lead) + padsBegin)
    let threads = NeuralNetworkFloat.threads(context)
    for batch in 0..<batches {
      for g in 0..<group {
        columns.update(repeating: 0, count: rows * inSpatial)
        NeuralNetworkGEMM.multiply(
          m: rows, n: inSpatial, k: groupChannels,
          a: NeuralNetworkMatrix(pw + g * groupChannels * rows, rowStride: 1, columnStride: rows),
          b: NeuralNetworkMatrix(px + (batch * channels + g * groupChannels) * inSpatial, rowStride: inSpatial),
          c: columns, ldc: inSpatial, threads: threads)
        geometry.accumulate(
          columns, channels: groupOut, into: py + (batch * outChannels + g * groupOut) * outSpatial)
      }
    }
    if let bias {
      let pb = bias.pointer(Float.self)
      for plane in 0..<(batches * outChannels) {
        let value = pb[plane % outChannels]
        let target = py + plane * outSpatial
        for i in 0..<outSpatial { target[i] += value }
      }
    }
    return [NeuralNetworkFloat.output(result, as: rawX.dataType)]
  }

  private static func nonEmpty(_ values: [Int]?, _ rank: Int, _ fallback: Int) -> [Int] {
    guard let values, !values.isEmpty else { return Array(repeating: fallback, count: rank) }
    return values
  }
}

/// col2im for ConvTranspose in 3-D: adds column row `(m * KD + kd) * KH + kh) * KW + kw`, column
/// `(id * IH + ih) * IW + iw` into `Y[m, id*sd - pd + kd*dd, ih*sh - ph + kh*dh, iw*sw - pw + kw*dw]`
/// wherever that index lies inside the output.
struct Col2im {
  let input: [Int]
  let output: [Int]
  let kernel: [Int]
  let strides: [Int]
  let dilations: [Int]
  let padsBegin: [Int]

  /// Input positions `i` for which `i * stride + offset` is inside the output on `axis`.
  func validInputs(axis: Int, offset: Int) -> Range<Int> {
    let stride = strides[axis]
    let low = offset >= 0 ? 0 : (-offset + stride - 1) / stride
    let top = output[axis] - 1 - offset
    let high = top < 0 ? 0 : min(input[axis], top / stride + 1)
    return min(low, high)..<high
  }

  func accumulate(_ columns: UnsafePointer<Float>, channels: Int, into y: UnsafeMutablePointer<Float>) {
    let inSpatial = input.reduce(1, *)
    let outSpatial = output.reduce(1, *)
    var row = 0
    for channel in 0..<channels {
      let plane = y + channel * outSpatial
      for kd in 0..<kernel[0] {
        let offsetD = kd * dilations[0] - padsBegin[0]
        let rangeD = validInputs(axis: 0, offset: offsetD)
        for kh in 0..<kernel[1] {
          let offsetH = kh * dilations[1] - padsBegin[1]
          let rangeH = validInputs(axis: 1, offset: offsetH)
          for kw in 0..<kernel[2] {
            let offsetW = kw * dilations[2] - padsBegin[2]
            let rangeW = validInputs(axis: 2, offset: offsetW)
            let source = columns + row * inSpatial
            row += 1
            for id in rangeD {
              let od = id * strides[0] + offsetD
              for ih in rangeH {
                let oh = ih * strides[1] + offsetH
                let line = plane + (od * output[1] + oh) * output[2] + offsetW
                let values = source + (id * input[1] + ih) * input[2]
                for iw in rangeW { line[iw * strides[2]] += values[iw] }
              }
            }
          }
        }
      }
    }
  }
}
