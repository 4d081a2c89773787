import Foundation

/// Concat and Split: joining tensors along an axis and cutting one apart, block by block with
/// `memcpy`, for every element type.
///
/// - Concat (opset 1+; `axis` required from 4, default 1 before): inputs agree on every axis
///   but `axis`; the output's `axis` size is the sum. Empty inputs take part with size 0.
/// - Split (opset 1+): sizes from the `split` attribute (opset 1-12; opset 1 also accepts a
///   second input) or the `split` input (13+); otherwise `num_outputs` (18+) or the node's
///   output count pieces of `ceil(size / n)`, the last one smaller.
extension DataMovement {
  static func concat(_ context: KernelContext) throws -> [HostTensor?] {
    let tensors = context.inputs.compactMap { $0 }
    guard let first = tensors.first else { throw context.failure("expected at least one input") }
    guard let listed = context.int("axis") ?? (context.opsetVersion < 4 ? 1 : nil) else {
      throw context.failure("expected an 'axis' attribute")
    }
    let axis = try Self.axis(listed, rank: first.rank, context)
    var total = 0
    for tensor in tensors {
      guard tensor.dataType == first.dataType, tensor.rank == first.rank else {
        throw context.failure("inputs \(tensors.map(\.typeDescription)) do not agree in type and rank")
      }
      for d in 0..<first.rank where d != axis && tensor.shape[d] != first.shape[d] {
        throw context.failure("inputs \(tensors.map(\.typeDescription)) differ on axis \(d)")
      }
      total += tensor.shape[axis]
    }
    var shape = first.shape
    shape[axis] = total
    let outer = product(first.shape[..<axis])
    let inner = product(first.shape[(axis + 1)...])
    return movingStrings(tensors) { tensors in
      let result = HostTensor(zeros: tensors[0].dataType, shape: shape)
      let size = tensors[0].dataType.storageStride
      let rowBytes = total * inner * size
      var column = 0
      for tensor in tensors {
        let bytes = tensor.shape[axis] * inner * size
        if bytes > 0 {
          for o in 0..<outer {
            (result.buffer.raw + o * rowBytes + column).copyMemory(
              from: tensor.buffer.raw + o * bytes, byteCount: bytes)
          }
        }
        column += bytes
      }
      return [result]
    }
  }

  static func split(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let axis = try Self.axis(context.int("axis", default: 0), rank: data.rank, context)
    let size = data.shape[axis]
    var sizes: [Int]
    if context.opsetVersion >= 13 {
      sizes = try context.optionalInput(1).map { try integers($0, context, "split") } ?? []
    } else if let attribute = context.ints("split") {
      sizes = attribute
    } else if context.opsetVersion < 2, let input = context.optionalInput(1) {
      sizes = try integers(input, context, "split")
    } else {
      sizes = []
    }
    if sizes.isEmpty {
      let count =
        context.opsetVersion >= 18
        ? context.int("num_outputs") ?? context.node.outputs.count : context.node.outputs.count
      guard count > 0 else { throw context.failure("expected at least one output") }
      let piece = (size + count - 1) / count
      sizes = (0..<count).map { max(0, min(piece, size - $0 * piece)) }
    }
    guard sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == size else {
      throw context.failure(
        "split \(sizes) does not add up to \(size), the size of axis \(axis) of \(data.typeDescription)")
    }
    let outer = product(data.shape[..<axis])
    let inner = product(data.shape[(axis + 1)...])
    let pieces = movingStrings([data]) { tensors -> [HostTensor] in
      let source = tensors[0]
      let elementSize = source.dataType.storageStride
      let rowBytes = size * inner * elementSize
      var column = 0
      return sizes.map { length in
        var shape = source.shape
        shape[axis] = length
        let piece = HostTensor(zeros: source.dataType, shape: shape)
        let bytes = length * inner * elementSize
        if bytes > 0 {
          for o in 0..<outer {
            (piece.buffer.raw + o * bytes).copyMemory(from: source.buffer.raw + o * rowBytes + column, byteCount: bytes)
          }
        }
        column += bytes
        return piece
      }
    }
    return pieces
  }
}
