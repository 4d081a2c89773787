/// NumPy-style (multidirectional) broadcasting: shapes align at their last axis, and each axis
/// is equal or 1 in every operand.
public enum Broadcast {
  /// The broadcast shape of `shapes`, or an error naming the operands' shapes.
  public static func shape(_ shapes: [[Int]]) throws -> [Int] {
    let rank = shapes.map(\.count).max() ?? 0
    var result = [Int](repeating: 1, count: rank)
    for shape in shapes {
      for (offset, size) in shape.reversed().enumerated() {
        let axis = rank - 1 - offset
        if result[axis] == 1 {
          result[axis] = size
        } else if size != 1 && size != result[axis] {
          throw ONNXQATError.badArgument(
            "shapes \(shapes.map { "\($0)" }.joined(separator: " and ")) do not broadcast (axis \(axis): \(result[axis]) vs \(size))"
          )
        }
      }
    }
    return result
  }

  /// Element strides of `shape` seen through the broadcast `output` shape (0 on broadcast axes).
  public static func strides(of shape: [Int], in output: [Int]) -> [Int] {
    var strides = [Int](repeating: 0, count: output.count)
    var stride = 1
    for (offset, size) in shape.reversed().enumerated() {
      let axis = output.count - 1 - offset
      strides[axis] = size == 1 ? 0 : stride
      stride *= size
    }
    return strides
  }

  /// Calls `body(outputIndex, offsets)` for every element of `output`, with each operand's flat
  /// offset, walking the index like an odometer (no division per element).
  public static func forEach(_ output: [Int], operands: [[Int]], _ body: (Int, [Int]) -> Void) {
    let count = output.reduce(1, *)
    guard count > 0 else { return }
    let strides = operands.map { Broadcast.strides(of: $0, in: output) }
    var offsets = [Int](repeating: 0, count: operands.count)
    var index = [Int](repeating: 0, count: output.count)
    for flat in 0..<count {
      body(flat, offsets)
      var axis = output.count - 1
      while axis >= 0 {
        index[axis] += 1
        for operand in 0..<operands.count { offsets[operand] += strides[operand][axis] }
        if index[axis] < output[axis] { break }
        for operand in 0..<operands.count { offsets[operand] -= strides[operand][axis] * output[axis] }
        index[axis] = 0
        axis -= 1
      }
    }
  }

  /// `result[i] = op(a[i'], b[i''])` over the broadcast shape, with fast paths for equal shapes
  /// and scalar operands.
  public static func binary<A, B, R>(
    _ a: HostTensor, _ b: HostTensor, _: A.Type, _: B.Type, into resultType: DataType, _ op: (A, B) -> R
  ) throws -> HostTensor {
    let shape = try Self.shape([a.shape, b.shape])
    let result = HostTensor(zeros: resultType, shape: shape)
    let pa = a.pointer(A.self)
    let pb = b.pointer(B.self)
    let pr = result.pointer(R.self)
    let count = result.count
    if a.shape == b.shape {
      for i in 0..<count { pr[i] = op(pa[i], pb[i]) }
    } else if b.count == 1 && a.count == count {
      let scalar = pb[0]
      for i in 0..<count { pr[i] = op(pa[i], scalar) }
    } else if a.count == 1 && b.count == count {
      let scalar = pa[0]
      for i in 0..<count { pr[i] = op(scalar, pb[i]) }
    } else {
      forEach(shape, operands: [a.shape, b.shape]) { index, offsets in
        pr[index] = op(pa[offsets[0]], pb[offsets[1]])
      }
    }
    return result
  }
}
