import Foundation

/// Trilu (opset 14+): keeps `input[..., i, j]` where `j - i >= k` (`upper` = 1, default) or
/// `j - i <= k` (`upper` = 0), zero elsewhere; `k` is an optional int64 scalar input (clamped to
/// the matrix size). Every element type (strings zero to "").
extension DataMovement {
  static func trilu(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    guard data.rank >= 2 else { throw context.failure("expected rank 2 or more, got \(data.typeDescription)") }
    let bound = data.shape.suffix(2).reduce(1, +)
    let k = min(max(try context.optionalInput(1).map { try integerScalar($0, context, "k") } ?? 0, -bound), bound)
    let upper = context.int("upper", default: 1) != 0
    let rows = data.shape[data.rank - 2]
    let columns = data.shape[data.rank - 1]
    let matrices = data.count / max(rows * columns, 1)
    return movingStrings([data]) { tensors in
      let source = tensors[0]
      let size = source.dataType.storageStride
      let result = HostTensor(zeros: source.dataType, shape: source.shape)
      guard result.count > 0 else { return [result] }
      for m in 0..<matrices {
        for i in 0..<rows {
          // Kept columns: [i + k, columns) when upper, [0, i + k] when lower.
          let low = upper ? min(max(i + k, 0), columns) : 0
          let high = upper ? columns : min(max(i + k + 1, 0), columns)
          guard high > low else { continue }
          let offset = ((m * rows + i) * columns + low) * size
          (result.buffer.raw + offset).copyMemory(from: source.buffer.raw + offset, byteCount: (high - low) * size)
        }
      }
      return [result]
    }
  }
}
