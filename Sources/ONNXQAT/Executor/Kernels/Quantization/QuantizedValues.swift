import Foundation

/// Shared helpers of the quantization kernels: integer element ranges, integer tensors read as
/// Int32 and written back, scale tensors read as Float, and how per-tensor, per-axis and
/// blocked parameters map to the elements of a tensor.
enum QuantizedValues {
  /// The representable range of an integer quantized type.
  static func range(_ type: DataType) -> ClosedRange<Int32>? {
    switch type {
    case .uint8: return 0...255
    case .int8: return -128...127
    case .uint16: return 0...65535
    case .int16: return -32768...32767
    case .uint4: return 0...15
    case .int4: return -8...7
    case .uint2: return 0...3
    case .int2: return -2...1
    case .int32: return Int32.min...Int32.max
    default: return nil
    }
  }

  /// Elements of an integer tensor (8, 16 or 32 bits, or unpacked sub-byte) as Int32.
  static func int32s(_ tensor: HostTensor) -> [Int32]? {
    let count = tensor.count
    switch tensor.dataType {
    case .uint8, .uint4, .uint2:
      let p = tensor.pointer(UInt8.self)
      return [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
        for i in 0..<count { buffer[i] = Int32(p[i]) }
        initialized = count
      }
    case .int8, .int4, .int2:
      let p = tensor.pointer(Int8.self)
      return [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
        for i in 0..<count { buffer[i] = Int32(p[i]) }
        initialized = count
      }
    case .uint16:
      let p = tensor.pointer(UInt16.self)
      return (0..<count).map { Int32(p[$0]) }
    case .int16:
      let p = tensor.pointer(Int16.self)
      return (0..<count).map { Int32(p[$0]) }
    case .int32:
      return tensor.values(Int32.self)
    default:
      return nil
    }
  }

  /// Int32 values (already in range) stored as a tensor of integer type `type`.
  static func tensor(_ values: [Int32], type: DataType, shape: [Int]) -> HostTensor {
    let result = HostTensor(zeros: type, shape: shape)
    values.withUnsafeBufferPointer { source in store(source, into: result) }
    return result
  }

  /// Stores Int32 values (already in range) into an integer tensor of the same element count.
  static func store(_ source: UnsafeBufferPointer<Int32>, into result: HostTensor) {
    switch result.dataType {
    case .uint8, .uint4, .uint2:
      let p = result.pointer(UInt8.self)
      for i in 0..<source.count { p[i] = UInt8(truncatingIfNeeded: source[i]) }
    case .int8, .int4, .int2:
      let p = result.pointer(Int8.self)
      for i in 0..<source.count { p[i] = Int8(truncatingIfNeeded: source[i]) }
    case .uint16:
      let p = result.pointer(UInt16.self)
      for i in 0..<source.count { p[i] = UInt16(truncatingIfNeeded: source[i]) }
    case .int16:
      let p = result.pointer(Int16.self)
      for i in 0..<source.count { p[i] = Int16(truncatingIfNeeded: source[i]) }
    case .int32:
      let p = result.pointer(Int32.self)
      for i in 0..<source.count { p[i] = source[i] }
    default:
      break
    }
  }

  /// Elements of a float tensor (float, double, float16, bfloat16, byte-coded floats) as Float.
  static func floats(_ tensor: HostTensor) -> [Float]? {
    switch tensor.dataType {
    case .float: return tensor.values(Float.self)
    case .int32:
      let p = tensor.pointer(Int32.self)
      return (0..<tensor.count).map { Float(p[$0]) }
    case .double, .float16, .bfloat16, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz,
      .float4e2m1, .float8e8m0, .float6e2m3, .float6e3m2:
      return (0..<tensor.count).map { Float(tensor.element(at: $0)) }
    default: return nil
    }
  }

  /// Float values as a tensor of float type `type` (float, double, float16, bfloat16).
  static func floatTensor(_ values: [Float], type: DataType, shape: [Int]) -> HostTensor? {
    switch type {
    case .float: return HostTensor(.float, shape: shape, values: values)
    case .double: return HostTensor(.double, shape: shape, values: values.map { Double($0) })
    case .float16: return HostTensor(.float16, shape: shape, values: values.map { FloatBits.floatToFloat16($0) })
    case .bfloat16:
      return HostTensor(.bfloat16, shape: shape, values: values.map { FloatBits.floatToBFloat16($0) })
    default: return nil
    }
  }

  /// True when `tensor` holds a single element (a scalar or a 1-element tensor).
  static func isScalar(_ tensor: HostTensor) -> Bool { tensor.count == 1 }

  /// For each element of a tensor of `shape`, the index of its quantization parameter: 0 for a
  /// single parameter; the coordinate on `axis` for per-axis; the block on `axis` for blocked
  /// parameters of shape `parameterShape`.
  static func parameterIndices(
    shape: [Int], axis: Int, parameterShape: [Int], blockSize: Int, context: KernelContext
  ) throws -> [Int] {
    let count = shape.reduce(1, *)
    let parameterCount = parameterShape.reduce(1, *)
    if parameterCount == 1 && (blockSize == 0 || parameterShape.count <= 1) {
      return [Int](repeating: 0, count: count)
    }
    let rank = shape.count
    let normalized = axis < 0 ? axis + rank : axis
    guard normalized >= 0 && normalized < rank else {
      throw context.failure("axis \(axis) is out of range for rank \(rank)")
    }
    let inner = shape[(normalized + 1)...].reduce(1, *)
    let size = shape[normalized]
    if blockSize <= 0 {
      guard parameterShape.count == 1, parameterCount == size else {
        throw context.failure(
          "expected a scalar or a 1-D scale of size \(size) (axis \(normalized)), got shape \(parameterShape)")
      }
      return (0..<count).map { ($0 / inner) % size }
    }
    guard parameterShape.count == rank else {
      throw context.failure("blocked quantization expects a scale of rank \(rank), got shape \(parameterShape)")
    }
    let blocks = parameterShape[normalized]
    for d in 0..<rank where d != normalized && parameterShape[d] != shape[d] {
      throw context.failure("blocked scale shape \(parameterShape) does not match input shape \(shape) on axis \(d)")
    }
    guard blocks > 0, (size - 1) / blockSize < blocks, (size + blockSize - 1) / blockSize >= blocks else {
      throw context.failure(
        "blocked scale has \(blocks) blocks on axis \(normalized), "
          + "which does not fit \(size) elements in blocks of \(blockSize)"
      )
    }
    let outer = count / max(1, size * inner)
    var indices = [Int](repeating: 0, count: count)
    var flat = 0
    for o in 0..<outer {
      for s in 0..<size {
        let base = (o * blocks + s / blockSize) * inner
        for i in 0..<inner {
          indices[flat] = base + i
          flat += 1
        }
      }
    }
    return indices
  }
}
