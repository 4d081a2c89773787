import Foundation

/// Slice: `output[i...] = input[start + i * step ...]` per sliced axis, copied as a strided
/// view (unit-step innermost runs by `memcpy`), for every element type.
///
/// Opset 1-9 take `starts`, `ends` and optional `axes` attributes (step 1); opset 10+ take
/// inputs `starts`, `ends`, optional `axes` and `steps` (any non-zero step, negative included).
/// Negative starts/ends count from the end; they are clamped to `[0, n]` for positive steps
/// and to `[-1, n-1]` for negative steps, as NumPy slicing does.
extension DataMovement {
  static func slice(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let starts: [Int]
    let ends: [Int]
    var axes: [Int]?
    var steps: [Int]?
    if context.opsetVersion < 10 {
      guard let s = context.ints("starts"), let e = context.ints("ends") else {
        throw context.failure("expected 'starts' and 'ends' attributes")
      }
      starts = s
      ends = e
      axes = context.ints("axes")
    } else {
      starts = try integers(try context.input(1), context, "starts")
      ends = try integers(try context.input(2), context, "ends")
      axes = try context.optionalInput(3).map { try integers($0, context, "axes") }
      steps = try context.optionalInput(4).map { try integers($0, context, "steps") }
    }
    let listed = try (axes ?? Array(0..<starts.count)).map { try axis($0, rank: data.rank, context) }
    let stepValues = steps ?? [Int](repeating: 1, count: starts.count)
    guard ends.count == starts.count, listed.count == starts.count, stepValues.count == starts.count else {
      throw context.failure("starts, ends, axes and steps have different lengths")
    }
    guard Set(listed).count == listed.count else { throw context.failure("axes \(listed) repeat an axis") }
    let inputStrides = strides(data.shape)
    var shape = data.shape
    var viewStrides = inputStrides
    var offset = 0
    for (k, axis) in listed.enumerated() {
      let n = data.shape[axis]
      let step = stepValues[k]
      guard step != 0 else { throw context.failure("step on axis \(axis) is 0") }
      var start = starts[k] < 0 ? starts[k] + n : starts[k]
      var end = ends[k] < 0 ? ends[k] + n : ends[k]
      let count: Int
      if step > 0 {
        start = min(max(start, 0), n)
        end = min(max(end, 0), n)
        count = end > start ? (end - start - 1) / step + 1 : 0
      } else {
        start = min(max(start, -1), n - 1)
        end = min(max(end, -1), n - 1)
        count = start > end ? (start - end - 1) / (step == Int.min ? Int.max : -step) + 1 : 0
      }
      shape[axis] = count
      if count > 0 { offset += start * inputStrides[axis] }
      viewStrides[axis] = inputStrides[axis] * step
    }
    return [strided(data, offset: offset, strides: viewStrides, shape: shape)]
  }
}
