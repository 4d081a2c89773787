import Foundation

/// Comparisons and logic with NumPy broadcasting, bool output:
/// Equal (numeric, bool, and string from opset 19), Less, LessOrEqual, Greater,
/// GreaterOrEqual (numeric), And, Or, Xor (bool); and Where `cond ? x : y` (three-way
/// broadcast, any element type, strings included). Every opset version from 7 has these
/// semantics (opset 1's `broadcast` attribute is not supported).
enum ElementwiseComparison {
  @inline(__always)
  static func compare(
    _ context: KernelContext, _ float: (Float, Float) -> Bool, _ double: (Double, Double) -> Bool,
    _ int: (Int64, Int64) -> Bool, _ uint: (UInt64, UInt64) -> Bool
  ) throws -> [HostTensor?] {
    let a = try context.input(0)
    let b = try context.input(1)
    try ElementwiseSupport.requireSameType(context, [a, b])
    let type = a.dataType
    switch type {
    case .float:
      return [
        try ElementwiseBroadcast.binary(a, b, Float.self, Float.self, into: .bool) { float($0, $1) ? UInt8(1) : 0 }
      ]
    case .double:
      return [
        try ElementwiseBroadcast.binary(a, b, Double.self, Double.self, into: .bool) { double($0, $1) ? UInt8(1) : 0 }
      ]
    case .string:
      guard context.node.opType == "Equal" else {
        throw ElementwiseSupport.unsupported(context, type, expected: "a numeric type")
      }
      let shape = try Broadcast.shape([a.shape, b.shape])
      let result = HostTensor(zeros: .bool, shape: shape)
      let target = result.pointer(UInt8.self)
      let sa = a.strings
      let sb = b.strings
      Broadcast.forEach(shape, operands: [a.shape, b.shape]) { index, offsets in
        target[index] = sa[offsets[0]] == sb[offsets[1]] ? 1 : 0
      }
      return [result]
    default:
      if type.isFloatingPoint {
        return [
          try ElementwiseBroadcast.binary(
            ElementwiseSupport.toFloat(a), ElementwiseSupport.toFloat(b), Float.self, Float.self, into: .bool
          ) { float($0, $1) ? UInt8(1) : 0 }
        ]
      }
      guard ElementwiseSupport.integerTypes.contains(type) || type == .bool else {
        throw ElementwiseSupport.unsupported(context, type, expected: "a numeric type")
      }
      let wa = ElementwiseSupport.widen(a)
      let wb = ElementwiseSupport.widen(b)
      if type == .uint64 {
        return [
          try ElementwiseBroadcast.binary(wa, wb, UInt64.self, UInt64.self, into: .bool) { uint($0, $1) ? UInt8(1) : 0 }
        ]
      }
      return [
        try ElementwiseBroadcast.binary(wa, wb, Int64.self, Int64.self, into: .bool) { int($0, $1) ? UInt8(1) : 0 }
      ]
    }
  }

  @inline(__always)
  static func logic(_ context: KernelContext, _ op: (Bool, Bool) -> Bool) throws -> [HostTensor?] {
    let a = try context.input(0)
    let b = try context.input(1)
    for (index, tensor) in [a, b].enumerated() where tensor.dataType != .bool {
      throw ElementwiseSupport.unsupported(context, tensor.dataType, index: index, expected: "bool")
    }
    return [
      try ElementwiseBroadcast.binary(a, b, UInt8.self, UInt8.self, into: .bool) { op($0 != 0, $1 != 0) ? UInt8(1) : 0 }
    ]
  }

  /// Where over `T`-sized elements.
  static func select<T>(_ condition: HostTensor, _ x: HostTensor, _ y: HostTensor, _ shape: [Int], _: T.Type)
    -> HostTensor
  {
    let result = HostTensor(zeros: x.dataType, shape: shape)
    let c = condition.pointer(UInt8.self)
    let px = x.pointer(T.self)
    let py = y.pointer(T.self)
    let target = result.pointer(T.self)
    let count = result.count
    if condition.count == count && x.count == count && y.count == count {
      for index in 0..<count { target[index] = c[index] != 0 ? px[index] : py[index] }
      return result
    }
    Broadcast.forEach(shape, operands: [condition.shape, x.shape, y.shape]) { index, offsets in
      target[index] = c[offsets[0]] != 0 ? px[offsets[1]] : py[offsets[2]]
    }
    return result
  }

  static func register(_ registry: inout KernelRegistry) {
    let versions = 7...Int.max
    registry.register("Equal", versions: versions) { context in try compare(context, ==, ==, ==, ==) }
    registry.register("Less", versions: versions) { context in try compare(context, <, <, <, <) }
    registry.register("LessOrEqual", versions: versions) { context in try compare(context, <=, <=, <=, <=) }
    registry.register("Greater", versions: versions) { context in try compare(context, >, >, >, >) }
    registry.register("GreaterOrEqual", versions: versions) { context in try compare(context, >=, >=, >=, >=) }
    registry.register("And", versions: versions) { context in try logic(context) { $0 && $1 } }
    registry.register("Or", versions: versions) { context in try logic(context) { $0 || $1 } }
    registry.register("Xor", versions: versions) { context in try logic(context) { $0 != $1 } }
    registry.register("Where") { context in
      let condition = try context.input(0)
      let x = try context.input(1)
      let y = try context.input(2)
      guard condition.dataType == .bool else {
        throw ElementwiseSupport.unsupported(context, condition.dataType, expected: "bool")
      }
      guard x.dataType == y.dataType else {
        throw context.failure(
          "inputs 1 and 2 have element types \(x.dataType.name) and \(y.dataType.name); expected one type")
      }
      let shape: [Int]
      do {
        shape = try Broadcast.shape([condition.shape, x.shape, y.shape])
      } catch {
        throw context.failure("\(error)")
      }
      if x.dataType == .string {
        let c = condition.values(UInt8.self)
        let sx = x.strings
        let sy = y.strings
        var strings = [String](repeating: "", count: shape.reduce(1, *))
        Broadcast.forEach(shape, operands: [condition.shape, x.shape, y.shape]) { index, offsets in
          strings[index] = c[offsets[0]] != 0 ? sx[offsets[1]] : sy[offsets[2]]
        }
        return [HostTensor(strings: strings, shape: shape)]
      }
      switch x.dataType.storageStride {
      case 1: return [select(condition, x, y, shape, UInt8.self)]
      case 2: return [select(condition, x, y, shape, UInt16.self)]
      case 4: return [select(condition, x, y, shape, UInt32.self)]
      case 8: return [select(condition, x, y, shape, UInt64.self)]
      default:
        throw ElementwiseSupport.unsupported(context, x.dataType, index: 1, expected: "a numeric, bool or string type")
      }
    }
  }
}
