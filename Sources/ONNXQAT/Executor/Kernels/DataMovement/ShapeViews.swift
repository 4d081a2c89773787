import Foundation

/// Reshape, Flatten, Squeeze and Unsqueeze: the same elements in the same order under a new
/// shape (no copy; the output shares the input's buffer, which kernels never write).
///
/// - Reshape: `shape` attribute at opset 1-4, `shape` input from 5; a 0 copies the input's
///   size on that axis (unless `allowzero` = 1, opset 14+, makes it a real 0); one -1 is
///   inferred from the element count.
/// - Flatten: `[prod(shape[..<axis]), prod(shape[axis...])]`, axis in `[-r, r]` (default 1).
/// - Squeeze: removes the listed size-1 axes (all size-1 axes when none are given); `axes`
///   attribute before opset 13, input from 13.
/// - Unsqueeze: inserts size-1 axes at the listed positions of the output; `axes` attribute
///   before opset 13, input from 13.
extension DataMovement {
  static func reshape(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let requested: [Int]
    if context.opsetVersion < 5 {
      guard let shape = context.ints("shape") else { throw context.failure("expected a 'shape' attribute") }
      requested = shape
    } else {
      requested = try integers(try context.input(1), context, "shape")
    }
    let allowZero = context.int("allowzero", default: 0) != 0 && context.opsetVersion >= 14
    var shape = requested
    var inferred: Int?
    for (axis, size) in requested.enumerated() {
      if size == 0 && !allowZero {
        guard axis < data.rank else {
          throw context.failure("shape \(requested) copies axis \(axis) of a rank-\(data.rank) input")
        }
        shape[axis] = data.shape[axis]
      } else if size == -1 {
        guard inferred == nil else { throw context.failure("shape \(requested) has more than one -1") }
        inferred = axis
      } else if size < 0 {
        throw context.failure("shape \(requested) has a negative size")
      }
    }
    if let inferred {
      let known = shape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
      guard known > 0, data.count % known == 0 else {
        throw context.failure("cannot reshape \(data.typeDescription) to \(requested)")
      }
      shape[inferred] = data.count / known
    }
    guard shape.reduce(1, *) == data.count else {
      throw context.failure("cannot reshape \(data.typeDescription) to \(requested) (\(shape.reduce(1, *)) elements)")
    }
    return [data.reshaped(shape)]
  }

  static func flatten(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    var axis = context.int("axis", default: 1)
    guard axis >= -data.rank && axis <= data.rank else {
      throw context.failure("axis \(axis) is out of range [-\(data.rank), \(data.rank)]")
    }
    if axis < 0 { axis += data.rank }
    return [data.reshaped([product(data.shape[..<axis]), product(data.shape[axis...])])]
  }

  /// The `axes` of Squeeze/Unsqueeze: the attribute before opset 13, the optional input from 13.
  private static func axesOperand(_ context: KernelContext) throws -> [Int]? {
    if context.opsetVersion < 13 { return context.ints("axes") }
    guard let axes = context.optionalInput(1) else { return nil }
    return try integers(axes, context, "axes")
  }

  static func squeeze(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    guard let listed = try axesOperand(context) else {
      return [data.reshaped(data.shape.filter { $0 != 1 })]
    }
    let axes = Set(try listed.map { try axis($0, rank: data.rank, context) })
    for axis in axes where data.shape[axis] != 1 {
      throw context.failure("cannot squeeze axis \(axis) of \(data.typeDescription): its size is not 1")
    }
    return [data.reshaped(data.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element))]
  }

  static func unsqueeze(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    guard let listed = try axesOperand(context) else { throw context.failure("expected axes") }
    let rank = data.rank + listed.count
    let axes = Set(try listed.map { try axis($0, rank: rank, context) })
    guard axes.count == listed.count else { throw context.failure("axes \(listed) repeat an axis") }
    var shape: [Int] = []
    var next = 0
    for axis in 0..<rank {
      if axes.contains(axis) {
        shape.append(1)
      } else {
        shape.append(data.shape[next])
        next += 1
      }
    }
    return [data.reshaped(shape)]
  }
}
