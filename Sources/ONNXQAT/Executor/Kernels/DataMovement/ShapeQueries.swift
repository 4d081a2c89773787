import Foundation

/// Shape and Size: facts about a tensor's shape as int64 tensors.
///
/// - Shape (opset 1+; `start`/`end` from 15): `shape[start..<end]` as a 1-D int64 tensor;
///   negative `start`/`end` count from the rank, both are clamped to `[0, rank]`.
/// - Size (opset 1+): the element count as an int64 scalar.
extension DataMovement {
  static func shape(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let rank = data.rank
    var start = context.opsetVersion >= 15 ? context.int("start", default: 0) : 0
    var end = context.opsetVersion >= 15 ? context.int("end", default: rank) : rank
    if start < 0 { start += rank }
    if end < 0 { end += rank }
    start = min(max(start, 0), rank)
    end = min(max(end, 0), rank)
    let dims = start < end ? data.shape[start..<end].map { Int64($0) } : []
    return [HostTensor(.int64, shape: [dims.count], values: dims)]
  }

  static func size(_ context: KernelContext) throws -> [HostTensor?] {
    [HostTensor.scalar(Int64(try context.input(0).count))]
  }
}
