import Foundation

/// MaxUnpool (opsets 9, 11, 22): the partial inverse of MaxPool. Y is zero except
/// `Y.flat[I[i]] = X[i]` for every element of X, where I holds MaxPool's flat indices (N and C
/// included) of the inferred shape, per spatial axis `(in - 1) * stride + kernel - pad_begin -
/// pad_end`. With the optional `output_shape` input (at least the inferred size on every axis),
/// that result is placed at the beginning of every axis of a zero output of that shape, as
/// ONNX's reference does. Any element type of X.
enum MaxUnpoolKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let x = try context.input(0)
    let indices = try context.input(1)
    guard x.rank >= 3, indices.shape == x.shape, indices.dataType == .int64 else {
      throw context.failure(
        "inputs 'X' \(x.typeDescription) and 'I' \(indices.typeDescription); expected [N, C, D1, ...] and int64 of the same shape"
      )
    }
    let rank = x.rank - 2
    guard let kernel = context.ints("kernel_shape"), kernel.count == rank else {
      throw context.failure("kernel_shape \(context.ints("kernel_shape") ?? []); expected \(rank) values")
    }
    let strides = context.ints("strides").flatMap { $0.isEmpty ? nil : $0 } ?? Array(repeating: 1, count: rank)
    let pads = context.ints("pads").flatMap { $0.isEmpty ? nil : $0 } ?? Array(repeating: 0, count: 2 * rank)
    guard strides.count == rank, pads.count == 2 * rank else {
      throw context.failure("strides \(strides) and pads \(pads); expected \(rank) and \(2 * rank) values")
    }
    var shape = Array(x.shape[0..<2])
    for axis in 0..<rank {
      shape.append((x.shape[axis + 2] - 1) * strides[axis] + kernel[axis] - pads[axis] - pads[axis + rank])
    }
    guard shape.allSatisfy({ $0 >= 0 }) else { throw context.failure("output shape \(shape) is negative") }
    let result = HostTensor(zeros: x.dataType, shape: shape)
    let stride = x.dataType.storageStride
    let total = result.count
    let source = x.buffer.raw
    let target = result.buffer.raw
    let pi = indices.pointer(Int64.self)
    for i in 0..<x.count {
      let index = Int(pi[i])
      guard index >= 0, index < total else {
        throw context.failure("index \(index) in 'I' is outside the output of \(total) elements")
      }
      target.advanced(by: index * stride).copyMemory(from: source.advanced(by: i * stride), byteCount: stride)
    }
    guard let requested = context.optionalInput(2) else { return [result] }
    let values = (0..<requested.count).map { Int(requested.element(at: $0)) }
    guard values.count == x.rank, zip(values, shape).allSatisfy({ $0 >= $1 }) else {
      throw context.failure("input 2 'output_shape' is \(values); expected \(x.rank) sizes of at least \(shape)")
    }
    if values == shape { return [result] }
    let placed = HostTensor(zeros: x.dataType, shape: values)
    let steps = Broadcast.strides(of: values, in: values)
    var offset = 0
    var position = [Int](repeating: 0, count: shape.count)
    for i in 0..<total {
      placed.buffer.raw.advanced(by: offset * stride).copyMemory(
        from: target.advanced(by: i * stride), byteCount: stride)
      var axis = shape.count - 1
      while axis >= 0 {
        position[axis] += 1
        offset += steps[axis]
        if position[axis] < shape[axis] { break }
        offset -= steps[axis] * shape[axis]
        position[axis] = 0
        axis -= 1
      }
    }
    return [placed]
  }
}
