import Foundation

/// ScatterND, ScatterElements and Scatter: a copy of `data` with `updates` written at the
/// indexed positions, in index order (later duplicates win), or combined with what is there by
/// `reduction` (add, mul from opset 16 for ScatterND / 16 for ScatterElements; max, min from
/// 18). Without a reduction every element type works; reductions work on the numeric types
/// (float16 in Float16 arithmetic, bfloat16 through Float).
///
/// - ScatterND (opset 11+): each tuple of the last indices axis (length m) addresses the slice
///   `output[i_0, ..., i_{m-1}]`, replaced by (or combined with) `updates[tuple position]`.
/// - ScatterElements (opset 11+) and Scatter (opset 9-10): `output[i with i[axis] =
///   indices[i]] = updates[i]` for every position `i` of indices.
extension DataMovement {
  enum Reduction: String {
    case none, add, mul, max, min
  }

  private static func reduction(_ context: KernelContext) throws -> Reduction {
    let name = context.string("reduction", default: "none")
    guard let reduction = Reduction(rawValue: name) else {
      throw context.failure("reduction '\(name)' is not none, add, mul, max or min")
    }
    return reduction
  }

  static func scatterND(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let indicesTensor = try context.input(1)
    let updates = try context.input(2)
    guard let m = indicesTensor.shape.last, m <= data.rank else {
      throw context.failure("indices \(indicesTensor.typeDescription) do not address data \(data.typeDescription)")
    }
    let expected = Array(indicesTensor.shape.dropLast()) + Array(data.shape[m...])
    guard updates.shape == expected, updates.dataType == data.dataType else {
      throw context.failure("updates \(updates.typeDescription) should have shape \(expected) and data's type")
    }
    let indices = try integers(indicesTensor, context, "indices")
    let dataStrides = strides(data.shape)
    let tuples = m == 0 ? product(indicesTensor.shape.dropLast()[...]) : indices.count / m
    var offsets = [Int](repeating: 0, count: tuples)
    for t in 0..<tuples {
      for k in 0..<m {
        offsets[t] += try position(indices[t * m + k], data.shape[k], context) * dataStrides[k]
      }
    }
    let length = product(data.shape[m...])
    return [try scatter(data, updates, offsets: offsets, length: length, try reduction(context), context)]
  }

  static func scatterElements(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let indicesTensor = try context.input(1)
    let updates = try context.input(2)
    let axis = try Self.axis(context.int("axis", default: 0), rank: data.rank, context)
    guard indicesTensor.shape == updates.shape, indicesTensor.rank == data.rank, updates.dataType == data.dataType
    else {
      throw context.failure(
        "indices \(indicesTensor.typeDescription) and updates \(updates.typeDescription) do not match data \(data.typeDescription)"
      )
    }
    let shape = indicesTensor.shape
    for d in 0..<data.rank where d != axis && shape[d] > data.shape[d] {
      throw context.failure("indices \(indicesTensor.typeDescription) exceed data \(data.typeDescription) on axis \(d)")
    }
    let indices = try integers(indicesTensor, context, "indices")
    let dataStrides = strides(data.shape)
    var offsets = [Int](repeating: 0, count: indices.count)
    var index = [Int](repeating: 0, count: shape.count)
    var base = 0
    for flat in 0..<indices.count {
      offsets[flat] = base + (try position(indices[flat], data.shape[axis], context)) * dataStrides[axis]
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
    let reduction = context.opsetVersion >= 16 ? try reduction(context) : .none
    return [try scatter(data, updates, offsets: offsets, length: 1, reduction, context)]
  }

  /// A copy of `data` where, for each `t`, the `length` elements at `offsets[t]` are replaced
  /// by (or reduced with) updates `t * length ..< (t + 1) * length`.
  static func scatter(
    _ data: HostTensor, _ updates: HostTensor, offsets: [Int], length: Int, _ reduction: Reduction,
    _ context: KernelContext
  ) throws -> HostTensor {
    if data.dataType == .string {
      guard reduction == .none else { throw context.failure("reduction \(reduction) needs numbers, got strings") }
      let proxy = proxyStrings([data, updates])
      let result = try scatter(proxy.tensors[0], proxy.tensors[1], offsets: offsets, length: length, .none, context)
      return restoreStrings(result, proxy.table)
    }
    let result = data.copy()
    let size = data.dataType.storageStride
    switch (reduction, data.dataType) {
    case (.none, _):
      let bytes = length * size
      for (t, offset) in offsets.enumerated() where bytes > 0 {
        (result.buffer.raw + offset * size).copyMemory(from: updates.buffer.raw + t * bytes, byteCount: bytes)
      }
    case (_, .float): reduce(Float.self, result, updates, offsets, length, reduction)
    case (_, .double): reduce(Double.self, result, updates, offsets, length, reduction)
    case (_, .int8): reduce(Int8.self, result, updates, offsets, length, reduction)
    case (_, .uint8), (_, .bool): reduce(UInt8.self, result, updates, offsets, length, reduction)
    case (_, .int16): reduce(Int16.self, result, updates, offsets, length, reduction)
    case (_, .uint16): reduce(UInt16.self, result, updates, offsets, length, reduction)
    case (_, .int32): reduce(Int32.self, result, updates, offsets, length, reduction)
    case (_, .uint32): reduce(UInt32.self, result, updates, offsets, length, reduction)
    case (_, .int64): reduce(Int64.self, result, updates, offsets, length, reduction)
    case (_, .uint64): reduce(UInt64.self, result, updates, offsets, length, reduction)
    case (_, .float16): reduce(Float16.self, result, updates, offsets, length, reduction)
    case (_, .bfloat16):
      guard let values = floats(data), let updateValues = floats(updates) else {
        throw context.failure("cannot decode \(data.typeDescription)")
      }
      let wide = HostTensor(.float, shape: data.shape, values: values)
      let wideUpdates = HostTensor(.float, shape: updates.shape, values: updateValues)
      reduce(Float.self, wide, wideUpdates, offsets, length, reduction)
      guard let narrowed = tensor(wide.values(Float.self), data.dataType, shape: data.shape) else {
        throw context.failure("cannot encode \(data.dataType.name)")
      }
      return narrowed
    default:
      throw context.failure("reduction \(reduction) is not supported for \(data.dataType.name)")
    }
    return result
  }

  private static func reduce<T: ScatterArithmetic>(
    _: T.Type, _ result: HostTensor, _ updates: HostTensor, _ offsets: [Int], _ length: Int, _ reduction: Reduction
  ) {
    let out = result.pointer(T.self)
    let source = updates.pointer(T.self)
    for (t, offset) in offsets.enumerated() {
      let from = t * length
      switch reduction {
      case .none: for j in 0..<length { out[offset + j] = source[from + j] }
      case .add: for j in 0..<length { out[offset + j] = T.sum(out[offset + j], source[from + j]) }
      case .mul: for j in 0..<length { out[offset + j] = T.product(out[offset + j], source[from + j]) }
      case .max: for j in 0..<length { out[offset + j] = T.maximum(out[offset + j], source[from + j]) }
      case .min: for j in 0..<length { out[offset + j] = T.minimum(out[offset + j], source[from + j]) }
      }
    }
  }
}

/// Element arithmetic of the scatter reductions: integers wrap like NumPy's; floats propagate
/// NaN through max and min like `np.maximum` and `np.minimum`.
protocol ScatterArithmetic {
  static func sum(_ a: Self, _ b: Self) -> Self
  static func product(_ a: Self, _ b: Self) -> Self
  static func maximum(_ a: Self, _ b: Self) -> Self
  static func minimum(_ a: Self, _ b: Self) -> Self
}

extension ScatterArithmetic where Self: FixedWidthInteger {
  static func sum(_ a: Self, _ b: Self) -> Self { a &+ b }
  static func product(_ a: Self, _ b: Self) -> Self { a &* b }
  static func maximum(_ a: Self, _ b: Self) -> Self { Swift.max(a, b) }
  static func minimum(_ a: Self, _ b: Self) -> Self { Swift.min(a, b) }
}

extension ScatterArithmetic where Self: BinaryFloatingPoint {
  static func sum(_ a: Self, _ b: Self) -> Self { a + b }
  static func product(_ a: Self, _ b: Self) -> Self { a * b }
  static func maximum(_ a: Self, _ b: Self) -> Self { a.isNaN || b.isNaN ? .nan : Swift.max(a, b) }
  static func minimum(_ a: Self, _ b: Self) -> Self { a.isNaN || b.isNaN ? .nan : Swift.min(a, b) }
}

extension Float: ScatterArithmetic {}
extension Float16: ScatterArithmetic {}
extension Double: ScatterArithmetic {}
extension Int8: ScatterArithmetic {}
extension UInt8: ScatterArithmetic {}
extension Int16: ScatterArithmetic {}
extension UInt16: ScatterArithmetic {}
extension Int32: ScatterArithmetic {}
extension UInt32: ScatterArithmetic {}
extension Int64: ScatterArithmetic {}
extension UInt64: ScatterArithmetic {}
