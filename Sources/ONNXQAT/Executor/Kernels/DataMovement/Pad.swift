import Foundation

/// Pad: `output[o] = input[o - begin]` where that is inside the input; elsewhere the constant
/// (mode `constant`), the mirror image without the edge (`reflect`), the nearest edge element
/// (`edge`) or the periodic continuation (`wrap`, opset 19+). Negative pads crop. Works for
/// every element type (strings padded with the constant string, "" by default).
///
/// Opset 1 takes attributes `paddings` and `value`; opset 2-10 `pads` and `value` (a float);
/// from 11, inputs `pads` and optional `constant_value` (same type as data); from 18 an optional
/// `axes` input says which axes `pads` lists (`[begin..., end...]`, one pair per listed axis).
extension DataMovement {
  enum PadMode: String {
    case constant, reflect, edge, wrap
  }

  static func pad(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let modeName = context.string("mode", default: "constant")
    guard let mode = PadMode(rawValue: modeName) else {
      throw context.failure("mode '\(modeName)' is not constant, reflect, edge or wrap")
    }
    var pads: [Int]
    var fillTensor: HostTensor?
    var fillValue = 0.0
    var axes = Array(0..<data.rank)
    if context.opsetVersion < 11 {
      guard let listed = context.ints(context.opsetVersion < 2 ? "paddings" : "pads") ?? context.ints("pads") else {
        throw context.failure("expected a 'pads' attribute")
      }
      pads = listed
      fillValue = Double(context.float("value", default: 0))
    } else {
      pads = try integers(try context.input(1), context, "pads")
      if let constant = context.optionalInput(2) {
        guard constant.dataType == data.dataType, constant.count == 1 else {
          throw context.failure("constant_value \(constant.typeDescription) should be one \(data.dataType.name)")
        }
        fillTensor = constant
      }
      if context.opsetVersion >= 18, let axesTensor = context.optionalInput(3) {
        axes = try integers(axesTensor, context, "axes").map { try axis($0, rank: data.rank, context) }
      }
    }
    guard pads.count == 2 * axes.count else {
      throw context.failure("pads \(pads) should hold \(2 * axes.count) values for axes \(axes)")
    }
    var begins = [Int](repeating: 0, count: data.rank)
    var ends = [Int](repeating: 0, count: data.rank)
    for (k, axis) in axes.enumerated() {
      begins[axis] = pads[k]
      ends[axis] = pads[axes.count + k]
    }
    let shape = (0..<data.rank).map { data.shape[$0] + begins[$0] + ends[$0] }
    try checkShape(shape, context)
    // Per axis, the input index of each output index (-1: the constant).
    var maps: [[Int]] = []
    for axis in 0..<data.rank {
      let n = data.shape[axis]
      var map = [Int](repeating: -1, count: shape[axis])
      for o in 0..<shape[axis] {
        let i = o - begins[axis]
        if i >= 0 && i < n {
          map[o] = i
          continue
        }
        guard mode != .constant else { continue }
        guard n > 0 else { throw context.failure("cannot \(mode.rawValue)-pad axis \(axis) of size 0") }
        switch mode {
        case .edge: map[o] = i < 0 ? 0 : n - 1
        case .wrap: map[o] = ((i % n) + n) % n
        case .reflect:
          if n == 1 {
            map[o] = 0
          } else {
            let period = 2 * (n - 1)
            var r = abs(i) % period
            if r >= n { r = period - r }
            map[o] = r
          }
        case .constant: break
        }
      }
      maps.append(map)
    }
    let padded = movingStrings([data] + (fillTensor.map { [$0] } ?? [])) { tensors -> [HostTensor] in
      let source = tensors[0]
      let size = source.dataType.storageStride
      var pattern: [UInt8]
      if tensors.count > 1 {
        pattern = Array(UnsafeRawBufferPointer(start: tensors[1].buffer.raw, count: size))
      } else {
        pattern = encode(fillValue, as: source.dataType) ?? [UInt8](repeating: 0, count: size)
      }
      return [padRows(source, shape: shape, maps: maps, begins: begins, pattern: pattern)]
    }
    return padded
  }

  /// Fills each output row (last axis) from the input row the outer maps select: the
  /// unpadded middle by `memcpy`, the rest element by element.
  private static func padRows(
    _ source: HostTensor, shape: [Int], maps: [[Int]], begins: [Int], pattern: [UInt8]
  ) -> HostTensor {
    let result = HostTensor(zeros: source.dataType, shape: shape)
    let size = source.dataType.storageStride
    guard result.count > 0 else { return result }
    if shape.isEmpty {
      result.buffer.raw.copyMemory(from: source.buffer.raw, byteCount: size)
      return result
    }
    let rank = shape.count
    let last = rank - 1
    let sourceStrides = strides(source.shape)
    let width = shape[last]
    let inputWidth = source.shape[last]
    let lastMap = maps[last]
    let middleStart = max(0, begins[last])
    let middleEnd = min(width, begins[last] + inputWidth)
    let rows = result.count / width
    var index = [Int](repeating: 0, count: rank)
    var out = result.buffer.raw
    let rowBytes = width * size
    for _ in 0..<rows {
      var base = 0
      var constantRow = false
      for axis in 0..<last {
        let i = maps[axis][index[axis]]
        if i < 0 {
          constantRow = true
          break
        }
        base += i * sourceStrides[axis]
      }
      if constantRow {
        fill(out, count: width, pattern: pattern)
      } else {
        let row = source.buffer.raw + base * size
        var o = 0
        while o < width {
          if o == middleStart && middleEnd > middleStart {
            o = middleEnd
            continue
          }
          if lastMap[o] >= 0 {
            (out + o * size).copyMemory(from: row + lastMap[o] * size, byteCount: size)
            o += 1
            continue
          }
          // A run of constant elements.
          var end = o + 1
          while end < width && lastMap[end] < 0 { end += 1 }
          fill(out + o * size, count: end - o, pattern: pattern)
          o = end
        }
        if middleEnd > middleStart {
          (out + middleStart * size).copyMemory(
            from: row + (middleStart - begins[last]) * size, byteCount: (middleEnd - middleStart) * size)
        }
      }
      out += rowBytes
      var axis = last - 1
      while axis >= 0 {
        index[axis] += 1
        if index[axis] < shape[axis] { break }
        index[axis] = 0
        axis -= 1
      }
    }
    return result
  }
}
