import Foundation

/// Shared helpers of the data-movement kernels: reading integer inputs, normalizing axes,
/// copying elements of any storage width (strided, with contiguous runs copied by `memcpy`),
/// and running element-moving kernels over string tensors through int64 proxies.
enum DataMovement {
  /// A 16-byte element (complex128), moved as one unit.
  struct Element16 {
    var low: UInt64
    var high: UInt64
  }

  // MARK: Integer inputs and attributes

  /// The elements of an integer tensor (int8..uint64) as `Int`.
  static func integers(_ tensor: HostTensor, _ context: KernelContext, _ what: String) throws -> [Int] {
    let count = tensor.count
    switch tensor.dataType {
    case .int64:
      let p = tensor.pointer(Int64.self)
      return (0..<count).map { Int(p[$0]) }
    case .int32:
      let p = tensor.pointer(Int32.self)
      return (0..<count).map { Int(p[$0]) }
    case .int16:
      let p = tensor.pointer(Int16.self)
      return (0..<count).map { Int(p[$0]) }
    case .int8:
      let p = tensor.pointer(Int8.self)
      return (0..<count).map { Int(p[$0]) }
    case .uint8:
      let p = tensor.pointer(UInt8.self)
      return (0..<count).map { Int(p[$0]) }
    case .uint16:
      let p = tensor.pointer(UInt16.self)
      return (0..<count).map { Int(p[$0]) }
    case .uint32:
      let p = tensor.pointer(UInt32.self)
      return (0..<count).map { Int(p[$0]) }
    case .uint64:
      let p = tensor.pointer(UInt64.self)
      return (0..<count).map { Int(truncatingIfNeeded: p[$0]) }
    default:
      throw context.failure("\(what) must be an integer tensor, got \(tensor.typeDescription)")
    }
  }

  /// A scalar (or one-element) integer input.
  static func integerScalar(_ tensor: HostTensor, _ context: KernelContext, _ what: String) throws -> Int {
    let values = try integers(tensor, context, what)
    guard values.count == 1 else {
      throw context.failure("\(what) must hold one value, got \(tensor.typeDescription)")
    }
    return values[0]
  }

  /// `axis` in `[-rank, rank)` made non-negative.
  static func axis(_ axis: Int, rank: Int, _ context: KernelContext) throws -> Int {
    guard rank > 0, axis >= -rank, axis < rank else {
      throw context.failure("axis \(axis) is out of range for rank \(rank)")
    }
    return axis < 0 ? axis + rank : axis
  }

  /// Row-major element strides of `shape`.
  static func strides(_ shape: [Int]) -> [Int] {
    var result = [Int](repeating: 1, count: shape.count)
    var step = 1
    for axis in (0..<shape.count).reversed() {
      result[axis] = step
      step *= shape[axis]
    }
    return result
  }

  static func product(_ values: ArraySlice<Int>) -> Int { values.reduce(1, *) }

  /// A size computed in floating point (Resize, Upsample, Range), refused when it is not a
  /// finite count a tensor could have.
  static func count(_ value: Double, _ context: KernelContext, _ what: String) throws -> Int {
    guard value.isFinite, value >= 0, value <= Double(1 << 40) else {
      throw context.failure("\(what) \(value) is not a usable size")
    }
    return Int(value)
  }

  /// Refuses shapes with negative sizes or more elements than memory could hold.
  static func checkShape(_ shape: [Int], _ context: KernelContext) throws {
    var count = 1
    for size in shape {
      guard size >= 0 else { throw context.failure("output shape \(shape) has a negative size") }
      let (product, overflow) = count.multipliedReportingOverflow(by: size)
      guard !overflow && product <= 1 << 40 else { throw context.failure("output shape \(shape) is too large") }
      count = product
    }
  }

  // MARK: Strided copies

  /// Copies the elements of a strided view of `source` into `destination`, contiguous in
  /// row-major order of `shape`: element `(i0, ..., in)` comes from
  /// `offset + i0 * strides[0] + ... + in * strides[n]` (element units; strides may be 0 or
  /// negative). Axes that are contiguous in both are merged; unit-stride innermost runs are
  /// copied with `memcpy`, others element by element with a typed loop.
  static func stridedCopy(
    from source: UnsafeRawPointer, offset: Int, strides sourceStrides: [Int], shape: [Int],
    to destination: UnsafeMutableRawPointer, elementSize: Int
  ) {
    if shape.contains(0) || elementSize == 0 { return }
    var dims: [Int] = []
    var steps: [Int] = []
    for (size, stride) in zip(shape, sourceStrides) where size != 1 {
      if let last = dims.last, let lastStep = steps.last, lastStep == stride * size {
        dims[dims.count - 1] = last * size
        steps[steps.count - 1] = stride
      } else {
        dims.append(size)
        steps.append(stride)
      }
    }
    let start = source + offset * elementSize
    guard let inner = dims.last, let innerStep = steps.last else {
      destination.copyMemory(from: start, byteCount: elementSize)
      return
    }
    let outerDims = Array(dims.dropLast())
    let outerSteps = Array(steps.dropLast())
    let rows = outerDims.reduce(1, *)
    switch elementSize {
    case 1: stridedRows(UInt8.self, start, outerDims, outerSteps, rows, inner, innerStep, destination)
    case 2: stridedRows(UInt16.self, start, outerDims, outerSteps, rows, inner, innerStep, destination)
    case 4: stridedRows(UInt32.self, start, outerDims, outerSteps, rows, inner, innerStep, destination)
    case 8: stridedRows(UInt64.self, start, outerDims, outerSteps, rows, inner, innerStep, destination)
    default: stridedRows(Element16.self, start, outerDims, outerSteps, rows, inner, innerStep, destination)
    }
  }

  private static func stridedRows<T>(
    _: T.Type, _ start: UnsafeRawPointer, _ dims: [Int], _ steps: [Int], _ rows: Int, _ inner: Int,
    _ innerStep: Int, _ destination: UnsafeMutableRawPointer
  ) {
    let source = start.assumingMemoryBound(to: T.self)
    let target = destination.assumingMemoryBound(to: T.self)
    var index = [Int](repeating: 0, count: dims.count)
    var base = 0
    var out = 0
    for _ in 0..<rows {
      if innerStep == 1 {
        (target + out).update(from: source + base, count: inner)
      } else {
        var position = base
        for j in 0..<inner {
          target[out + j] = source[position]
          position += innerStep
        }
      }
      out += inner
      var axis = dims.count - 1
      while axis >= 0 {
        index[axis] += 1
        base += steps[axis]
        if index[axis] < dims[axis] { break }
        base -= steps[axis] * dims[axis]
        index[axis] = 0
        axis -= 1
      }
    }
  }

  /// A new tensor of `shape` holding the strided view of `tensor` (see `stridedCopy`).
  static func strided(_ tensor: HostTensor, offset: Int, strides: [Int], shape: [Int]) -> HostTensor {
    if tensor.dataType == .string {
      let proxy = proxyStrings([tensor])
      let moved = strided(proxy.tensors[0], offset: offset, strides: strides, shape: shape)
      return restoreStrings(moved, proxy.table)
    }
    let result = HostTensor(zeros: tensor.dataType, shape: shape)
    stridedCopy(
      from: tensor.buffer.raw, offset: offset, strides: strides, shape: shape, to: result.buffer.raw,
      elementSize: tensor.dataType.storageStride)
    return result
  }

  /// `tensor` seen with `viewShape` (same element count), transposed by `perm`.
  static func transposed(_ tensor: HostTensor, viewShape: [Int], perm: [Int]) -> HostTensor {
    let viewStrides = strides(viewShape)
    return strided(
      tensor, offset: 0, strides: perm.map { viewStrides[$0] }, shape: perm.map { viewShape[$0] })
  }

  // MARK: Strings

  /// String tensors as int64 tensors of 1-based positions into one shared table (0 stands
  /// for the empty string, so zero-filled results map back to ""), for kernels that only
  /// move elements. Non-string tensors pass through unchanged.
  static func proxyStrings(_ tensors: [HostTensor]) -> (tensors: [HostTensor], table: [String]) {
    var table: [String] = []
    let proxies = tensors.map { tensor -> HostTensor in
      guard tensor.dataType == .string else { return tensor }
      let base = table.count
      table.append(contentsOf: tensor.strings)
      return HostTensor(.int64, shape: tensor.shape, values: (0..<tensor.count).map { Int64(base + $0 + 1) })
    }
    return (proxies, table)
  }

  /// The string tensor that an int64 proxy result stands for.
  static func restoreStrings(_ tensor: HostTensor, _ table: [String]) -> HostTensor {
    let p = tensor.pointer(Int64.self)
    let strings = (0..<tensor.count).map { index -> String in
      let position = Int(p[index])
      return position >= 1 && position <= table.count ? table[position - 1] : ""
    }
    return HostTensor(strings: strings, shape: tensor.shape)
  }

  /// Runs `body` on `data` (and on `extra` data-typed inputs), through int64 proxies when
  /// they are strings; every result is data-typed and mapped back.
  static func movingStrings(
    _ tensors: [HostTensor], _ body: ([HostTensor]) throws -> [HostTensor]
  ) rethrows -> [HostTensor] {
    guard tensors.contains(where: { $0.dataType == .string }) else { return try body(tensors) }
    let proxy = proxyStrings(tensors)
    return try body(proxy.tensors).map { restoreStrings($0, proxy.table) }
  }

  // MARK: Encoding scalars

  /// The storage bytes of `value` as one element of `dataType` (integers truncated toward
  /// zero and saturated; small float formats rounded to nearest even); nil for types that
  /// cannot hold a number (strings).
  static func encode(_ value: Double, as dataType: DataType) -> [UInt8]? {
    func bytes<T>(_ element: T) -> [UInt8] { withUnsafeBytes(of: element) { Array($0) } }
    func saturated<T: FixedWidthInteger>(_: T.Type) -> T {
      if value.isNaN { return 0 }
      if value <= Double(T.min) { return T.min }
      if value >= Double(T.max) { return T.max }
      return T(value.rounded(.towardZero))
    }
    switch dataType {
    case .float: return bytes(Float(value))
    case .double: return bytes(value)
    case .float16: return bytes(FloatBits.floatToFloat16(Float(value)))
    case .bfloat16: return bytes(FloatBits.floatToBFloat16(Float(value)))
    case .bool: return [value != 0 ? 1 : 0]
    case .int8: return bytes(saturated(Int8.self))
    case .uint8: return bytes(saturated(UInt8.self))
    case .int16: return bytes(saturated(Int16.self))
    case .uint16: return bytes(saturated(UInt16.self))
    case .int32: return bytes(saturated(Int32.self))
    case .uint32: return bytes(saturated(UInt32.self))
    case .int64: return bytes(saturated(Int64.self))
    case .uint64: return bytes(saturated(UInt64.self))
    case .int4: return bytes(saturated(Int8.self).clamped(-8, 7))
    case .uint4: return bytes(saturated(UInt8.self).clamped(0, 15))
    case .int2: return bytes(saturated(Int8.self).clamped(-2, 1))
    case .uint2: return bytes(saturated(UInt8.self).clamped(0, 3))
    default:
      // Byte-coded float formats: the code whose decoded value is nearest.
      guard let decode = FloatBits.decoder(for: dataType), let bits = dataType.bitWidth else { return nil }
      var best: UInt8 = 0
      var bestDistance = Double.infinity
      for code in 0..<(1 << bits) {
        let decoded = Double(decode(UInt8(code)))
        let distance = decoded == value ? 0 : abs(decoded - value)
        if distance < bestDistance {
          best = UInt8(code)
          bestDistance = distance
        }
      }
      return [best]
    }
  }

  /// Fills `count` elements at `destination` with the element `pattern` (its storage bytes).
  static func fill(_ destination: UnsafeMutableRawPointer, count: Int, pattern: [UInt8]) {
    guard count > 0, !pattern.isEmpty else { return }
    if pattern.allSatisfy({ $0 == 0 }) {
      destination.initializeMemory(as: UInt8.self, repeating: 0, count: count * pattern.count)
      return
    }
    pattern.withUnsafeBytes { raw in
      guard let base = raw.baseAddress else { return }
      destination.copyMemory(from: base, byteCount: pattern.count)
    }
    // Doubling copies: 1, 2, 4, ... elements.
    var filled = 1
    while filled < count {
      let chunk = min(filled, count - filled)
      (destination + filled * pattern.count).copyMemory(from: destination, byteCount: chunk * pattern.count)
      filled += chunk
    }
  }
}

extension Comparable {
  fileprivate func clamped(_ low: Self, _ high: Self) -> Self { min(max(self, low), high) }
}
