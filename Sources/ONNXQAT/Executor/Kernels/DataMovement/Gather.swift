import Foundation

/// Gather, GatherElements and GatherND: picking elements or slices by index, for every
/// element type (indices int32 or int64; negative indices count from the end).
///
/// - Gather (opset 1+): `output[a..., j..., b...] = data[a..., indices[j...], b...]` along
///   `axis` (default 0); output shape `data[..<axis] + indices.shape + data[axis+1...]`.
/// - GatherElements (opset 11+): `output[i] = data[i with i[axis] = indices[i]]`; output shape
///   is the indices' shape.
/// - GatherND (opset 11+, `batch_dims` from 12): the last indices axis (length m) addresses
///   `data[b..., i_0, ..., i_{m-1}]` after `batch_dims` leading axes shared by data and
///   indices; output shape `indices.shape[..<-1] + data.shape[batch_dims + m...]`.
extension DataMovement {
  /// `index` in `[-size, size)` made non-negative, or a failure.
  @inline(__always)
  static func position(_ index: Int, _ size: Int, _ context: KernelContext) throws -> Int {
    guard index >= -size && index < size else {
      throw context.failure("index \(index) is out of range for an axis of size \(size)")
    }
    return index < 0 ? index + size : index
  }

  static func gather(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let indicesTensor = try context.input(1)
    let axis = try Self.axis(context.int("axis", default: 0), rank: data.rank, context)
    let size = data.shape[axis]
    let indices = try integers(indicesTensor, context, "indices").map { try position($0, size, context) }
    let shape = Array(data.shape[..<axis]) + indicesTensor.shape + Array(data.shape[(axis + 1)...])
    let outer = product(data.shape[..<axis])
    let inner = product(data.shape[(axis + 1)...])
    if inner == 1 {
      // One element per index: a typed gather beats a memcpy call per element.
      var offsets = [Int](repeating: 0, count: outer * indices.count)
      for o in 0..<outer {
        for (k, index) in indices.enumerated() { offsets[o * indices.count + k] = o * size + index }
      }
      return movingStrings([data]) { tensors in [gatherOffsets(tensors[0], offsets, shape: shape)] }
    }
    return movingStrings([data]) { tensors in
      let source = tensors[0]
      let result = HostTensor(zeros: source.dataType, shape: shape)
      let blockBytes = inner * source.dataType.storageStride
      guard blockBytes > 0 else { return [result] }
      var out = result.buffer.raw
      for o in 0..<outer {
        let row = source.buffer.raw + o * size * blockBytes
        for index in indices {
          out.copyMemory(from: row + index * blockBytes, byteCount: blockBytes)
          out += blockBytes
        }
      }
      return [result]
    }
  }

  static func gatherElements(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let indicesTensor = try context.input(1)
    let axis = try Self.axis(context.int("axis", default: 0), rank: data.rank, context)
    guard indicesTensor.rank == data.rank else {
      throw context.failure("indices \(indicesTensor.typeDescription) and data \(data.typeDescription) differ in rank")
    }
    let size = data.shape[axis]
    let indices = try integers(indicesTensor, context, "indices").map { try position($0, size, context) }
    let dataStrides = strides(data.shape)
    let shape = indicesTensor.shape
    for d in 0..<data.rank where d != axis && shape[d] > data.shape[d] {
      throw context.failure("indices \(indicesTensor.typeDescription) exceed data \(data.typeDescription) on axis \(d)")
    }
    // Flat data offset of every indices position, axis term excluded, walked as an odometer.
    var offsets = [Int](repeating: 0, count: indices.count)
    var index = [Int](repeating: 0, count: shape.count)
    var base = 0
    for flat in 0..<indices.count {
      offsets[flat] = base + indices[flat] * dataStrides[axis]
      var d = shape.count - 1
      while d >= 0 {
        index[d] += 1
        if d != axis { base += dataStrides[d] }
        if index[d] < shape[d] { break }
        if d != axis { base -= dataStrides[d] * shape[d] }
        index[d] = 0
        d -= 1
      }
    }
    return movingStrings([data]) { tensors in [gatherOffsets(tensors[0], offsets, shape: shape)] }
  }

  /// `result[i] = source[offsets[i]]` for every element type.
  static func gatherOffsets(_ source: HostTensor, _ offsets: [Int], shape: [Int]) -> HostTensor {
    let result = HostTensor(zeros: source.dataType, shape: shape)
    func run<T>(_: T.Type) {
      let s = source.pointer(T.self)
      let r = result.pointer(T.self)
      for (i, offset) in offsets.enumerated() { r[i] = s[offset] }
    }
    switch source.dataType.storageStride {
    case 1: run(UInt8.self)
    case 2: run(UInt16.self)
    case 4: run(UInt32.self)
    case 8: run(UInt64.self)
    default: run(Element16.self)
    }
    return result
  }

  static func gatherND(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let indicesTensor = try context.input(1)
    let batchDims = context.int("batch_dims", default: 0)
    guard let m = indicesTensor.shape.last, indicesTensor.rank >= 1 else {
      throw context.failure("indices must have rank 1 or more, got \(indicesTensor.typeDescription)")
    }
    guard batchDims >= 0, batchDims < indicesTensor.rank, batchDims + m <= data.rank,
      Array(data.shape[..<batchDims]) == Array(indicesTensor.shape[..<batchDims])
    else {
      throw context.failure(
        "indices \(indicesTensor.typeDescription) do not address data \(data.typeDescription) with batch_dims \(batchDims)"
      )
    }
    let indices = try integers(indicesTensor, context, "indices")
    let sliceShape = Array(data.shape[(batchDims + m)...])
    let shape = Array(indicesTensor.shape.dropLast()) + sliceShape
    let batches = product(data.shape[..<batchDims])
    let tuplesPerBatch = product(indicesTensor.shape[batchDims..<(indicesTensor.rank - 1)])
    let dataStrides = strides(data.shape)
    let batchStride = batchDims == 0 ? 0 : dataStrides[batchDims - 1]
    var offsets: [Int] = []
    offsets.reserveCapacity(batches * tuplesPerBatch)
    for b in 0..<batches {
      for t in 0..<tuplesPerBatch {
        var offset = b * batchStride
        for k in 0..<m {
          let axis = batchDims + k
          offset +=
            try position(indices[(b * tuplesPerBatch + t) * m + k], data.shape[axis], context) * dataStrides[axis]
        }
        offsets.append(offset)
      }
    }
    let sliceCount = product(sliceShape[...])
    return movingStrings([data]) { tensors in
      let source = tensors[0]
      let result = HostTensor(zeros: source.dataType, shape: shape)
      let size = source.dataType.storageStride
      let bytes = sliceCount * size
      for (i, offset) in offsets.enumerated() where bytes > 0 {
        (result.buffer.raw + i * bytes).copyMemory(from: source.buffer.raw + offset * size, byteCount: bytes)
      }
      return [result]
    }
  }
}
