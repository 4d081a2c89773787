import Foundation

/// Expand and Tile: repeating elements as zero-stride views, copied for every element type.
///
/// - Expand (opset 8+): the input broadcast (NumPy rules) with the `shape` input; the result
///   has the broadcast of both shapes, so a 1 in `shape` keeps the input's size.
/// - Tile (opset 6+; `repeats` input): `output[i] = input[i mod input.shape]` with
///   `output.shape = input.shape * repeats`, copied as the view `[r0, d0, r1, d1, ...]` with
///   stride 0 on the repeat axes.
extension DataMovement {
  static func expand(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let requested = try integers(try context.input(1), context, "shape")
    let shape: [Int]
    do {
      shape = try Broadcast.shape([data.shape, requested])
    } catch {
      throw context.failure("cannot expand \(data.typeDescription) to \(requested)")
    }
    try checkShape(shape, context)
    return [strided(data, offset: 0, strides: Broadcast.strides(of: data.shape, in: shape), shape: shape)]
  }

  static func tile(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let repeats = try integers(try context.input(1), context, "repeats")
    guard repeats.count == data.rank, repeats.allSatisfy({ $0 >= 0 }) else {
      throw context.failure("repeats \(repeats) should be \(data.rank) non-negative counts for \(data.typeDescription)")
    }
    let outputShape = zip(data.shape, repeats).map { $0 * $1 }
    try checkShape(outputShape, context)
    let dataStrides = strides(data.shape)
    var viewShape: [Int] = []
    var viewStrides: [Int] = []
    for axis in 0..<data.rank {
      viewShape += [repeats[axis], data.shape[axis]]
      viewStrides += [0, dataStrides[axis]]
    }
    return [strided(data, offset: 0, strides: viewStrides, shape: viewShape).reshaped(outputShape)]
  }
}
