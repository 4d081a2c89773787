import Foundation

/// TopK: the `k` largest (`largest` = 1, default) or smallest elements along `axis` (default
/// -1) and their int64 indices, always sorted; equal values keep index order (the reference's
/// stable sort), and NaN counts as larger than every number. `k` is an attribute at opset 1-9
/// and a one-element int64 input from 10; `largest` and `sorted` arrive at 11.
extension DataMovement {
  static func topK(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let axis = try Self.axis(context.int("axis", default: -1), rank: data.rank, context)
    let k: Int
    if context.opsetVersion < 10 {
      guard let attribute = context.int("k") else { throw context.failure("expected a 'k' attribute") }
      k = attribute
    } else {
      k = try integerScalar(try context.input(1), context, "k")
    }
    let n = data.shape[axis]
    guard k >= 0 && k <= n else {
      throw context.failure("k = \(k) is out of range for axis \(axis) of \(data.typeDescription)")
    }
    let largest = context.opsetVersion < 11 || context.int("largest", default: 1) != 0
    let outer = product(data.shape[..<axis])
    let inner = product(data.shape[(axis + 1)...])
    let order: [Int]
    switch data.dataType {
    case .float: order = ranks(data.pointer(Float.self), outer, n, inner, k, largest)
    case .double: order = ranks(data.pointer(Double.self), outer, n, inner, k, largest)
    case .int8: order = ranks(data.pointer(Int8.self), outer, n, inner, k, largest)
    case .uint8, .bool: order = ranks(data.pointer(UInt8.self), outer, n, inner, k, largest)
    case .int16: order = ranks(data.pointer(Int16.self), outer, n, inner, k, largest)
    case .uint16: order = ranks(data.pointer(UInt16.self), outer, n, inner, k, largest)
    case .int32: order = ranks(data.pointer(Int32.self), outer, n, inner, k, largest)
    case .uint32: order = ranks(data.pointer(UInt32.self), outer, n, inner, k, largest)
    case .int64: order = ranks(data.pointer(Int64.self), outer, n, inner, k, largest)
    case .uint64: order = ranks(data.pointer(UInt64.self), outer, n, inner, k, largest)
    default:
      guard data.dataType != .string, let values = floats(data) else {
        throw context.failure("expected a numeric input, got \(data.dataType.name)")
      }
      order = values.withUnsafeBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return [] }
        return ranks(base, outer, n, inner, k, largest)
      }
    }
    var shape = data.shape
    shape[axis] = k
    // order[(o * k + r) * inner + i] is the axis index of rank r at (o, i).
    var offsets = [Int](repeating: 0, count: order.count)
    for o in 0..<outer {
      for r in 0..<k {
        for i in 0..<inner {
          let position = (o * k + r) * inner + i
          offsets[position] = (o * n + order[position]) * inner + i
        }
      }
    }
    let values = gatherOffsets(data, offsets, shape: shape)
    let indices = HostTensor(.int64, shape: shape, values: order.map { Int64($0) })
    return [values, indices]
  }

  private static func ranks<T: TopKKey>(
    _ keys: UnsafePointer<T>, _ outer: Int, _ n: Int, _ inner: Int, _ k: Int, _ largest: Bool
  ) -> [Int] {
    var order = [Int](repeating: 0, count: outer * k * inner)
    guard k > 0 else { return order }
    var line = [Int](repeating: 0, count: n)
    var best: [Int] = []
    best.reserveCapacity(k + 1)
    for o in 0..<outer {
      for i in 0..<inner {
        let base = o * n * inner + i
        // Strict total order: by value (largest or smallest first), then by index.
        func before(_ a: Int, _ b: Int) -> Bool {
          let x = keys[base + a * inner]
          let y = keys[base + b * inner]
          if largest ? T.greater(x, y) : T.greater(y, x) { return true }
          return !T.greater(x, y) && !T.greater(y, x) && a < b
        }
        if k * 4 < n {
          // Few wanted: keep the best k in order while scanning once.
          best.removeAll(keepingCapacity: true)
          for j in 0..<n {
            if best.count == k, let last = best.last, !before(j, last) { continue }
            var low = 0
            var high = best.count
            while low < high {
              let middle = (low + high) / 2
              if before(best[middle], j) { low = middle + 1 } else { high = middle }
            }
            best.insert(j, at: low)
            if best.count > k { best.removeLast() }
          }
          for r in 0..<k { order[(o * k + r) * inner + i] = best[r] }
        } else {
          for j in 0..<n { line[j] = j }
          line.sort(by: before)
          for r in 0..<k { order[(o * k + r) * inner + i] = line[r] }
        }
      }
    }
    return order
  }
}

/// A TopK sort key: ordered by `>`, with NaN above every number and equal to NaN.
protocol TopKKey: Comparable {
  static func greater(_ a: Self, _ b: Self) -> Bool
}

extension TopKKey where Self: FixedWidthInteger {
  static func greater(_ a: Self, _ b: Self) -> Bool { a > b }
}

extension TopKKey where Self: BinaryFloatingPoint {
  static func greater(_ a: Self, _ b: Self) -> Bool {
    if a.isNaN { return !b.isNaN }
    return !b.isNaN && a > b
  }
}

extension Float: TopKKey {}
extension Double: TopKKey {}
extension Int8: TopKKey {}
extension UInt8: TopKKey {}
extension Int16: TopKKey {}
extension UInt16: TopKKey {}
extension Int32: TopKKey {}
extension UInt32: TopKKey {}
extension Int64: TopKKey {}
extension UInt64: TopKKey {}
