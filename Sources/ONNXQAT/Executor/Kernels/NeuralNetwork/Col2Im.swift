import Foundation

/// Col2Im (opset 18): the inverse of im2col for 1-3 spatial axes. Input [N, C * prod(block), L]
/// holds, for every block position, the block's values; they are added back into an image
/// [N, C, image_shape...]:
///
///     Y[n, c, b*s - pad_begin + k*d ...] += X[n, c * prod(block) + k, b]
///
/// where b runs over the `(image + pad_begin + pad_end - (block - 1) * d - 1) / s + 1` block
/// positions per axis (their product must be L). Float32 (double, float16 and bfloat16
/// through float32).
enum Col2ImKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let raw = try context.input(0)
    let x = try NeuralNetworkFloat.input(context, 0, "input")
    let image = try context.input(1)
    let block = try context.input(2)
    let imageShape = (0..<image.count).map { Int(image.element(at: $0)) }
    let blockShape = (0..<block.count).map { Int(block.element(at: $0)) }
    let rank = imageShape.count
    guard rank >= 1, rank <= 3, blockShape.count == rank, x.rank == 3,
      imageShape.allSatisfy({ $0 > 0 }), blockShape.allSatisfy({ $0 > 0 })
    else {
      throw context.failure(
        "image_shape \(imageShape), block_shape \(blockShape) and input \(x.shape); expected 1-3 positive sizes each "
          + "and a rank-3 input")
    }
    let strides = context.ints("strides").flatMap { $0.isEmpty ? nil : $0 } ?? Array(repeating: 1, count: rank)
    let dilations = context.ints("dilations").flatMap { $0.isEmpty ? nil : $0 } ?? Array(repeating: 1, count: rank)
    let pads = context.ints("pads").flatMap { $0.isEmpty ? nil : $0 } ?? Array(repeating: 0, count: 2 * rank)
    guard strides.count == rank, dilations.count == rank, pads.count == 2 * rank,
      strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 })
    else {
      throw context.failure("strides \(strides), dilations \(dilations), pads \(pads); expected \(rank) values each")
    }
    var blocks: [Int] = []
    for axis in 0..<rank {
      let effective: Int = (blockShape[axis] - 1) * dilations[axis] + 1
      let span: Int = imageShape[axis] + pads[axis] + pads[axis + rank] - effective
      guard span >= 0 else {
        throw context.failure("block_shape \(blockShape) with dilations \(dilations) is larger than the padded image")
      }
      blocks.append(span / strides[axis] + 1)
    }
    let blockVolume = blockShape.reduce(1, *)
    guard x.shape[1] % blockVolume == 0, x.shape[2] == blocks.reduce(1, *), blocks.allSatisfy({ $0 >= 0 }) else {
      throw context.failure(
        "input has shape \(x.shape); expected [N, C * \(blockVolume), \(blocks.reduce(1, *))] for blocks \(blocks)")
    }
    let channels = x.shape[1] / blockVolume
    let lead = 3 - rank
    let geometry = Col2im(
      input: Array(repeating: 1, count: lead) + blocks, output: Array(repeating: 1, count: lead) + imageShape,
      kernel: Array(repeating: 1, count: lead) + blockShape, strides: Array(repeating: 1, count: lead) + strides,
      dilations: Array(repeating: 1, count: lead) + dilations,
      padsBegin: Array(repeating: 0, count: lead) + Array(pads[0..<rank]))
    let result = HostTensor(zeros: .float, shape: [x.shape[0], channels] + imageShape)
    let plane = channels * imageShape.reduce(1, *)
    let px = UnsafePointer(x.pointer(Float.self))
    let py = result.pointer(Float.self)
    for n in 0..<x.shape[0] {
      geometry.accumulate(px + n * x.shape[1] * x.shape[2], channels: channels, into: py + n * plane)
    }
    return [NeuralNetworkFloat.output(result, as: raw.dataType)]
  }
}
