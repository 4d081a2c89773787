/// float32 Add, Sub, Mul and Div without a closure per element: plain loops for equal shapes,
/// a scalar operand, and one operand that varies over a single contiguous block of the other's
/// axes (a bias [C] over [N, C], a per-channel scale [1, C, 1, 1] over [N, C, H, W]), viewed as
/// [outer, mid, inner]. Other broadcasts return nil and take the general path.
enum ElementwiseFloatBinary {
  enum Op { case add, sub, mul, div }

  @inline(__always)
  static func apply(_ op: Op, _ x: Float, _ y: Float) -> Float {
    switch op {
    case .add: return x + y
    case .sub: return x - y
    case .mul: return x * y
    case .div: return x / y
    }
  }

  /// `a op b` when a fast path applies.
  static func run(_ a: HostTensor, _ b: HostTensor, _ op: Op) -> HostTensor? {
    guard a.dataType == .float, b.dataType == .float else { return nil }
    if a.shape == b.shape || b.count == 1 && a.rank >= b.rank {
      return full(a, b, op, swapped: false)
    }
    if a.count == 1 && b.rank >= a.rank { return full(b, a, op, swapped: true) }
    if let result = block(a, b, op, swapped: false) { return result }
    return block(b, a, op, swapped: true)
  }

  /// `full` has the output shape; `other` has the same shape or one element.
  private static func full(_ full: HostTensor, _ other: HostTensor, _ op: Op, swapped: Bool) -> HostTensor {
    let result = HostTensor(uninitialized: .float, shape: full.shape)
    let p = full.pointer(Float.self)
    let q = other.pointer(Float.self)
    let r = result.pointer(Float.self)
    let count = full.count
    if other.count == 1 && count != 1 || other.count == 1 && full.shape != other.shape {
      let s = q[0]
      switch (op, swapped) {
      case (.add, _): for i in 0..<count { r[i] = p[i] + s }
      case (.mul, _): for i in 0..<count { r[i] = p[i] * s }
      case (.sub, false): for i in 0..<count { r[i] = p[i] - s }
      case (.sub, true): for i in 0..<count { r[i] = s - p[i] }
      case (.div, false): for i in 0..<count { r[i] = p[i] / s }
      case (.div, true): for i in 0..<count { r[i] = s / p[i] }
      }
    } else {
      switch (op, swapped) {
      case (.add, _): for i in 0..<count { r[i] = p[i] + q[i] }
      case (.mul, _): for i in 0..<count { r[i] = p[i] * q[i] }
      case (.sub, false): for i in 0..<count { r[i] = p[i] - q[i] }
      case (.sub, true): for i in 0..<count { r[i] = q[i] - p[i] }
      case (.div, false): for i in 0..<count { r[i] = p[i] / q[i] }
      case (.div, true): for i in 0..<count { r[i] = q[i] / p[i] }
      }
    }
    return result
  }

  /// `full` has the output shape; `other`'s non-1 axes (aligned at the end) are one contiguous
  /// block equal to `full`'s.
  private static func block(_ full: HostTensor, _ other: HostTensor, _ op: Op, swapped: Bool) -> HostTensor? {
    let rank = full.rank
    guard other.rank <= rank, other.count > 1 else { return nil }
    let aligned = [Int](repeating: 1, count: rank - other.rank) + other.shape
    guard let first = aligned.firstIndex(where: { $0 != 1 }), let last = aligned.lastIndex(where: { $0 != 1 }) else {
      return nil
    }
    for axis in first...last where aligned[axis] != full.shape[axis] { return nil }
    let outer = full.shape.prefix(first).reduce(1, *)
    let mid = other.count
    let inner = full.shape.dropFirst(last + 1).reduce(1, *)
    let result = HostTensor(uninitialized: .float, shape: full.shape)
    let p = full.pointer(Float.self)
    let q = other.pointer(Float.self)
    let r = result.pointer(Float.self)
    if inner == 1 {
      // A bias along the last axis: whole rows at a time.
      for o in 0..<outer {
        let (x, y) = (p + o * mid, r + o * mid)
        switch (op, swapped) {
        case (.add, _): for m in 0..<mid { y[m] = x[m] + q[m] }
        case (.mul, _): for m in 0..<mid { y[m] = x[m] * q[m] }
        case (.sub, false): for m in 0..<mid { y[m] = x[m] - q[m] }
        case (.sub, true): for m in 0..<mid { y[m] = q[m] - x[m] }
        case (.div, false): for m in 0..<mid { y[m] = x[m] / q[m] }
        case (.div, true): for m in 0..<mid { y[m] = q[m] / x[m] }
        }
      }
      return result
    }
    for o in 0..<outer {
      for m in 0..<mid {
        let s = q[m]
        let base = (o * mid + m) * inner
        switch (op, swapped) {
        case (.add, _): for i in base..<(base + inner) { r[i] = p[i] + s }
        case (.mul, _): for i in base..<(base + inner) { r[i] = p[i] * s }
        case (.sub, false): for i in base..<(base + inner) { r[i] = p[i] - s }
        case (.sub, true): for i in base..<(base + inner) { r[i] = s - p[i] }
        case (.div, false): for i in base..<(base + inner) { r[i] = p[i] / s }
        case (.div, true): for i in base..<(base + inner) { r[i] = s / p[i] }
        }
      }
    }
    return result
  }
}
