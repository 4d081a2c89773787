/// Binary broadcasting for the elementwise kernels: `Broadcast.binary`'s cases (equal shapes,
/// a scalar operand, the general odometer walk) plus plain loops when one operand has the
/// output shape and the other varies over one contiguous block of its axes (a bias [C] over
/// [N, C], a per-channel [1, C, 1, 1] over [N, C, H, W]), seen as [outer, mid, inner]. Inlined
/// into each kernel so `op` needs no call per element.
enum ElementwiseBroadcast {
  @inline(__always)
  static func binary<A, B, R>(
    _ a: HostTensor, _ b: HostTensor, _: A.Type, _: B.Type, into type: DataType, _ op: (A, B) -> R
  ) throws -> HostTensor {
    if a.shape != b.shape && a.count > 1 && b.count > 1 {
      if let (outer, mid, inner) = block(full: a, other: b) {
        let result = HostTensor(zeros: type, shape: a.shape)
        let pa = a.pointer(A.self)
        let pb = b.pointer(B.self)
        let pr = result.pointer(R.self)
        for o in 0..<outer {
          for m in 0..<mid {
            let s = pb[m]
            let base = (o * mid + m) * inner
            for i in base..<(base + inner) { pr[i] = op(pa[i], s) }
          }
        }
        return result
      }
      if let (outer, mid, inner) = block(full: b, other: a) {
        let result = HostTensor(zeros: type, shape: b.shape)
        let pa = a.pointer(A.self)
        let pb = b.pointer(B.self)
        let pr = result.pointer(R.self)
        for o in 0..<outer {
          for m in 0..<mid {
            let s = pa[m]
            let base = (o * mid + m) * inner
            for i in base..<(base + inner) { pr[i] = op(s, pb[i]) }
          }
        }
        return result
      }
    }
    return try Broadcast.binary(a, b, A.self, B.self, into: type, op)
  }

  /// [outer, mid, inner] when `other`'s non-1 axes (aligned at the end) are one contiguous
  /// block equal to `full`'s axes there, so that the output has `full`'s shape.
  static func block(full: HostTensor, other: HostTensor) -> (Int, Int, Int)? {
    let rank = full.rank
    guard other.rank <= rank else { return nil }
    let aligned = [Int](repeating: 1, count: rank - other.rank) + other.shape
    guard let first = aligned.firstIndex(where: { $0 != 1 }), let last = aligned.lastIndex(where: { $0 != 1 }) else {
      return nil
    }
    for axis in first...last where aligned[axis] != full.shape[axis] { return nil }
    return (full.shape.prefix(first).reduce(1, *), other.count, full.shape.dropFirst(last + 1).reduce(1, *))
  }
}
