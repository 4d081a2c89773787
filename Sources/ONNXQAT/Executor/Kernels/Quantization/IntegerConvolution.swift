import Foundation

/// Integer N-D convolution with int32 accumulation, shared by ConvInteger and QLinearConv:
/// `y[n, m, o] = sum_{c, k} (x[n, g*C/G + c, o*stride + k*dilation - padBegin] - x_zp) * (w[m, c, k] - w_zp[m])`
/// per group g, padding contributing zero (padding holds the zero point). Lowered to im2col and
/// an integer GEMM per image and group (IntegerGemmTiles).
struct IntegerConvolution {
  let batch: Int
  let inputChannels: Int
  let outputChannels: Int
  let group: Int
  let inputSpatial: [Int]
  let kernel: [Int]
  let strides: [Int]
  let dilations: [Int]
  let padBegin: [Int]
  let outputSpatial: [Int]

  var outputShape: [Int] { [batch, outputChannels] + outputSpatial }

  /// Reads the attributes (auto_pad, dilations, group, kernel_shape, pads, strides) for input
  /// shape `x` [N, C, D1...] and weight shape `w` [M, C/group, k1...].
  init(x: [Int], w: [Int], context: KernelContext) throws {
    guard x.count >= 3, w.count == x.count else {
      throw context.failure("expected x of rank >= 3 and w of the same rank, got \(x) and \(w)")
    }
    let rank = x.count - 2
    batch = x[0]
    inputChannels = x[1]
    outputChannels = w[0]
    group = context.int("group", default: 1)
    guard group >= 1, inputChannels == w[1] * group, outputChannels % group == 0 else {
      throw context.failure("channels do not match: x has \(x[1]), w \(w) with group \(group)")
    }
    inputSpatial = Array(x[2...])
    kernel = context.ints("kernel_shape") ?? Array(w[2...])
    guard kernel == Array(w[2...]) else {
      throw context.failure("kernel_shape \(kernel) differs from the weight's spatial shape \(Array(w[2...]))")
    }
    strides = context.ints("strides") ?? [Int](repeating: 1, count: rank)
    dilations = context.ints("dilations") ?? [Int](repeating: 1, count: rank)
    guard strides.count == rank, dilations.count == rank, strides.allSatisfy({ $0 > 0 }),
      dilations.allSatisfy({ $0 > 0 })
    else {
      throw context.failure("strides and dilations must have \(rank) positive values")
    }
    let autoPad = context.string("auto_pad", default: "NOTSET")
    var begin = [Int](repeating: 0, count: rank)
    var output = [Int](repeating: 0, count: rank)
    let pads = context.ints("pads") ?? [Int](repeating: 0, count: 2 * rank)
    guard pads.count == 2 * rank else { throw context.failure("pads must have \(2 * rank) values, got \(pads.count)") }
    for d in 0..<rank {
      let extent = dilations[d] * (kernel[d] - 1) + 1
      switch autoPad {
      case "SAME_UPPER", "SAME_LOWER":
        output[d] = (inputSpatial[d] + strides[d] - 1) / strides[d]
        let total = Swift.max(0, (output[d] - 1) * strides[d] + extent - inputSpatial[d])
        begin[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
      case "VALID":
        output[d] = (inputSpatial[d] - extent) / strides[d] + 1
      default:
        begin[d] = pads[d]
        output[d] = (inputSpatial[d] + pads[d] + pads[d + rank] - extent) / strides[d] + 1
      }
      guard output[d] > 0 else { throw context.failure("the output would be empty on spatial axis \(d)") }
    }
    padBegin = begin
    outputSpatial = output
  }

  /// Int32 accumulators [N, M, outputSize] of the convolution of `x` (minus `xZero`) with `w`
  /// (minus `wZero[m]`), on up to `threads` threads: across images and groups when there are
  /// several groups, else inside the GEMM.
  func accumulate(x: [Int32], xZero: Int32, w: [Int32], wZero: [Int32], threads: Int = 1) -> [Int32] {
    let rank = kernel.count
    let inputSize = inputSpatial.reduce(1, *)
    let outputSize = outputSpatial.reduce(1, *)
    let kernelSize = kernel.reduce(1, *)
    let channelsPerGroup = inputChannels / group
    let outputsPerGroup = outputChannels / group
    let rows = channelsPerGroup * kernelSize
    // Weights with zero points removed: [M, C/G * kernelSize].
    var weights = [Int32](repeating: 0, count: w.count)
    for i in 0..<w.count { weights[i] = w[i] &- wZero[i / rows] }
    // For every (kernel offset, output position): the input offset, or -1 in the padding (not
    // needed in 2-D, see im2col2D).
    var sourceIndex = [Int](repeating: -1, count: rank == 2 ? 1 : kernelSize * outputSize)
    var kernelIndex = [Int](repeating: 0, count: rank)
    for kernelFlat in 0..<(rank == 2 ? 0 : kernelSize) {
      var outputIndex = [Int](repeating: 0, count: rank)
      for outputFlat in 0..<outputSize {
        var offset = 0
        var inside = true
        for d in 0..<rank {
          let coordinate = outputIndex[d] * strides[d] + kernelIndex[d] * dilations[d] - padBegin[d]
          if coordinate < 0 || coordinate >= inputSpatial[d] {
            inside = false
            break
          }
          offset = offset * inputSpatial[d] + coordinate
        }
        if inside { sourceIndex[kernelFlat * outputSize + outputFlat] = offset }
        var d = rank - 1
        while d >= 0 {
          outputIndex[d] += 1
          if outputIndex[d] < outputSpatial[d] { break }
          outputIndex[d] = 0
          d -= 1
        }
      }
      var d = rank - 1
      while d >= 0 {
        kernelIndex[d] += 1
        if kernelIndex[d] < kernel[d] { break }
        kernelIndex[d] = 0
        d -= 1
      }
    }
    // Every path below writes every accumulator.
    let resultCount = batch * outputChannels * outputSize
    var result = [Int32](unsafeUninitializedCapacity: resultCount) { _, initialized in initialized = resultCount }
    if rank == 2, channelsPerGroup == 1, outputsPerGroup == 1 {
      x.withUnsafeBufferPointer { px in
        weights.withUnsafeBufferPointer { pw in
          result.withUnsafeMutableBufferPointer { pr in
            guard let xBase = px.baseAddress, let wBase = pw.baseAddress, let rBase = pr.baseAddress else { return }
            accumulateDepthwise(x: xBase, xZero: xZero, weights: wBase, output: rBase, threads: threads)
          }
        }
      }
      return result
    }
    if rank == 2, outputsPerGroup >= IntegerGemm.tileRows,
      let block = panelBlock(x: x, xZero: xZero, weights: weights, depth: rows)
    {
      let floatWeights = weights.map { Float($0) }
      let capacity = panelCapacity(depth: rows)
      let panels = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
      defer { panels.deallocate() }
      let lastPanel = IntegerGemm.FloatLane.scalarCount * rows
      (panels + (capacity - lastPanel)).update(repeating: 0, count: lastPanel)
      x.withUnsafeBufferPointer { px in
        floatWeights.withUnsafeBufferPointer { pw in
          result.withUnsafeMutableBufferPointer { pr in
            guard let xBase = px.baseAddress, let wBase = pw.baseAddress, let rBase = pr.baseAddress else { return }
            for image in 0..<batch {
              for g in 0..<self.group {
                accumulatePanels(
                  channels: xBase + (image * self.inputChannels + g * channelsPerGroup) * inputSize, xZero: xZero,
                  weights: wBase + g * outputsPerGroup * rows, outputs: outputsPerGroup, panels: panels, block: block,
                  output: rBase + (image * self.outputChannels + g * outputsPerGroup) * outputSize, threads: threads)
              }
            }
          }
        }
      }
      return result
    }
    let tasks = batch * group
    let workers = threads > 1 && group > 1 ? Swift.min(threads, tasks) : 1
    let gemmThreads = workers > 1 ? 1 : threads
    let inputChannels = inputChannels
    let outputChannels = outputChannels
    let group = group
    x.withUnsafeBufferPointer { px in
      weights.withUnsafeBufferPointer { pw in
        sourceIndex.withUnsafeBufferPointer { ps in
          result.withUnsafeMutableBufferPointer { pr in
            guard let xBase = px.baseAddress, let wBase = pw.baseAddress, let sBase = ps.baseAddress,
              let rBase = pr.baseAddress
            else { return }
            let body = { (worker: Int) in
              let columns = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(1, rows * outputSize))
              defer { columns.deallocate() }
              for task in (tasks * worker / workers)..<(tasks * (worker + 1) / workers) {
                let image = task / group
                let g = task % group
                for c in 0..<channelsPerGroup {
                  let channel = xBase + (image * inputChannels + g * channelsPerGroup + c) * inputSize
                  if rank == 2 {
                    im2col2D(channel, xZero: xZero, into: columns + c * kernelSize * outputSize)
                    continue
                  }
                  for k in 0..<kernelSize {
                    let row = columns + (c * kernelSize + k) * outputSize
                    let sources = sBase + k * outputSize
                    for o in 0..<outputSize {
                      let source = sources[o]
                      row[o] = source < 0 ? 0 : channel[source] &- xZero
                    }
                  }
                }
                IntegerGemm.multiply(
                  wBase + g * outputsPerGroup * rows, columns,
                  rBase + (image * outputChannels + g * outputsPerGroup) * outputSize,
                  m: outputsPerGroup, k: rows, n: outputSize, threads: gemmThreads)
              }
            }
            if workers > 1 {
              ParallelWork.perform(iterations: workers, execute: body)
            } else {
              body(0)
            }
          }
        }
      }
    }
    return result
  }

  /// The K block of the exact Float path for these operands (`max|x - xZero| * max|w'|`, see
  /// IntegerGemmFloat), or nil when it does not apply.
  func panelBlock(x: [Int32], xZero: Int32, weights: [Int32], depth: Int) -> Int? {
    var maxX: UInt32 = 0
    for value in x { maxX = Swift.max(maxX, (value &- xZero).magnitude) }
    var maxW: UInt32 = 0
    for value in weights { maxW = Swift.max(maxW, value.magnitude) }
    let product = UInt64(maxX) * UInt64(maxW)
    if product == 0 { return Swift.min(Swift.max(depth, 1), IntegerGemm.depthBlock) }
    let block = ((UInt64(1) << 22) - 1) / product
    return block >= 16 ? Int(Swift.min(block, UInt64(IntegerGemm.depthBlock))) : nil
  }
}
