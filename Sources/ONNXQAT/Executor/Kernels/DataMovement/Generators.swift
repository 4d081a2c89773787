import Foundation

/// Ops that make tensors from attributes or a few scalars: Constant, ConstantOfShape, Range
/// and EyeLike.
///
/// - Constant (opset 1+): `value` (a tensor), `sparse_value` (densified, opset 11+), or from 12
///   `value_float(s)`, `value_int(s)` (int64) and `value_string(s)`.
/// - ConstantOfShape (opset 9+): a tensor of the `shape` input filled with the one element of
///   the `value` attribute (float 0 by default), whose type it takes.
/// - Range (opset 11+): `start + i * delta` for `i` in `0..<max(ceil((limit - start) / delta), 0)`,
///   computed in Double for floating types (as NumPy's `arange`) and exactly for integers.
/// - EyeLike (opset 9+): a 2-D tensor of the input's shape with ones on diagonal `k` and zeros
///   elsewhere, of type `dtype` (default: the input's type).
extension DataMovement {
  static func constant(_ context: KernelContext) throws -> [HostTensor?] {
    if let tensor = try context.tensor("value") { return [tensor] }
    if case .sparseTensor(let sparse)? = context.attribute("sparse_value")?.value {
      return [try densify(sparse, context)]
    }
    if let value = context.float("value_float") { return [HostTensor.scalar(value)] }
    if let values = context.floats("value_floats") {
      return [HostTensor(.float, shape: [values.count], values: values)]
    }
    if let value = context.int("value_int") { return [HostTensor.scalar(Int64(value))] }
    if let values = context.ints("value_ints") {
      return [HostTensor(.int64, shape: [values.count], values: values.map { Int64($0) })]
    }
    if let value = context.string("value_string") { return [HostTensor(strings: [value], shape: [])] }
    if let values = context.strings("value_strings") { return [HostTensor(strings: values, shape: [values.count])] }
    throw context.failure(
      "expected one of the attributes value, sparse_value, value_float(s), value_int(s), value_string(s)")
  }

  /// A dense tensor from a sparse one: indices are `[NNZ]` flat positions or `[NNZ, rank]`.
  private static func densify(_ sparse: SparseTensor, _ context: KernelContext) throws -> HostTensor {
    guard let valuesProto = sparse.values, let indicesProto = sparse.indices else {
      throw context.failure("sparse_value lacks values or indices")
    }
    let values = try HostTensor(valuesProto)
    let indicesTensor = try HostTensor(indicesProto)
    let shape = sparse.dims.map { Int($0) }
    try checkShape(shape, context)
    let indices = try integers(indicesTensor, context, "sparse indices")
    let shapeStrides = strides(shape)
    let count = shape.reduce(1, *)
    var offsets: [Int] = []
    if indicesTensor.rank == 2 {
      let rank = indicesTensor.shape[1]
      guard rank == shape.count else { throw context.failure("sparse indices do not match dims \(shape)") }
      offsets = (0..<values.count).map { n in (0..<rank).reduce(0) { $0 + indices[n * rank + $1] * shapeStrides[$1] } }
    } else {
      offsets = indices
    }
    guard offsets.count == values.count, offsets.allSatisfy({ $0 >= 0 && $0 < count }) else {
      throw context.failure("sparse indices are out of range for dims \(shape)")
    }
    let dense = HostTensor(zeros: values.dataType, shape: shape)
    return try scatter(dense, values, offsets: offsets, length: 1, .none, context)
  }

  static func constantOfShape(_ context: KernelContext) throws -> [HostTensor?] {
    let shape = try integers(try context.input(0), context, "shape")
    try checkShape(shape, context)
    let value = try context.tensor("value") ?? HostTensor(.float, shape: [1], values: [Float(0)])
    guard value.count == 1 else { throw context.failure("value should hold one element, got \(value.typeDescription)") }
    if value.dataType == .string {
      return [HostTensor(strings: Array(repeating: value.strings[0], count: shape.reduce(1, *)), shape: shape)]
    }
    let result = HostTensor(zeros: value.dataType, shape: shape)
    let size = value.dataType.storageStride
    fill(
      result.buffer.raw, count: result.count,
      pattern: Array(UnsafeRawBufferPointer(start: value.buffer.raw, count: size)))
    return [result]
  }

  static func range(_ context: KernelContext) throws -> [HostTensor?] {
    let start = try context.input(0)
    let limit = try context.input(1)
    let delta = try context.input(2)
    guard start.count == 1, limit.count == 1, delta.count == 1, start.dataType == limit.dataType,
      start.dataType == delta.dataType
    else {
      throw context.failure("start, limit and delta should be scalars of one type")
    }
    let type = start.dataType
    if type.isInteger {
      let (first, last, step) = (
        try integerScalar(start, context, "start"), try integerScalar(limit, context, "limit"),
        try integerScalar(delta, context, "delta")
      )
      guard step != 0 else { throw context.failure("delta is 0") }
      let span = last - first
      let count = max(0, step > 0 ? (span + step - 1) / step : (span + step + 1) / step)
      try checkShape([count], context)
      let exact = HostTensor(.int64, shape: [count], values: (0..<count).map { Int64(first + $0 * step) })
      return [try narrow(exact, to: type, context)]
    }
    let first = start.element(at: 0)
    let step = delta.element(at: 0)
    let span = limit.element(at: 0) - first
    guard step != 0 else { throw context.failure("delta is 0") }
    let steps = (span / step).rounded(.up)
    let count = try Self.count(steps < 0 ? 0 : steps, context, "element count")
    try checkShape([count], context)
    let values = (0..<count).map { first + Double($0) * step }
    if type == .double { return [HostTensor(.double, shape: [count], values: values)] }
    guard let result = tensor(values.map { Float($0) }, type, shape: [count]) else {
      throw context.failure("range of \(type.name) is not supported")
    }
    return [result]
  }

  /// An int64 tensor converted to a narrower integer type (values already in range).
  private static func narrow(_ tensor: HostTensor, to type: DataType, _ context: KernelContext) throws -> HostTensor {
    let source = tensor.pointer(Int64.self)
    let result = HostTensor(zeros: type, shape: tensor.shape)
    func store<T: FixedWidthInteger>(_: T.Type) {
      let p = result.pointer(T.self)
      for i in 0..<tensor.count { p[i] = T(truncatingIfNeeded: source[i]) }
    }
    switch type {
    case .int64: return tensor
    case .int32: store(Int32.self)
    case .int16: store(Int16.self)
    case .int8: store(Int8.self)
    case .uint8: store(UInt8.self)
    case .uint16: store(UInt16.self)
    case .uint32: store(UInt32.self)
    case .uint64: store(UInt64.self)
    default: throw context.failure("range of \(type.name) is not supported")
    }
    return result
  }

  static func eyeLike(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    guard data.rank == 2 else { throw context.failure("expected a 2-D input, got \(data.typeDescription)") }
    let type = context.int("dtype").map { DataType(rawValue: Int32($0)) } ?? data.dataType
    let k = context.int("k", default: 0)
    let (rows, columns) = (data.shape[0], data.shape[1])
    let result = HostTensor(zeros: type, shape: [rows, columns])
    guard let one = encode(1, as: type) else {
      throw context.failure("expected a numeric or bool dtype, got \(type.name)")
    }
    for row in 0..<rows {
      let column = row + k
      if column >= 0 && column < columns {
        fill(result.buffer.raw + (row * columns + column) * one.count, count: 1, pattern: one)
      }
    }
    return [result]
  }
}
