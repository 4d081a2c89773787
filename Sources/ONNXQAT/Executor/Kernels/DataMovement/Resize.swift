import Foundation

/// Resize (opset 10+) and Upsample (opset 7-10): interpolation of each resized axis, one axis
/// at a time in axis order (the reference's separable scheme).
///
/// Output size per axis: `floor(scale * in)` from `scales`, or `sizes` directly (with
/// `keep_aspect_ratio_policy` not_larger/not_smaller at 18+: one scale `min`/`max(out / in)` over
/// the resized axes and sizes `round_half_up(scale * in)`); `axes` (18+) lists which axes the
/// inputs describe. Output coordinate `x` maps to input coordinate `x_ori` by
/// `coordinate_transformation_mode`:
/// - half_pixel (default): `(x + 0.5) / scale - 0.5`; pytorch_half_pixel: the same, or -0.5
///   when the output length is 1; half_pixel_symmetric (19+): half_pixel shifted by
///   `in / 2 · (1 - out_int / (scale · in))`; align_corners: `x · (in - 1) / (scale · in - 1)`;
///   asymmetric: `x / scale`; tf_crop_and_resize: `roi_start · (in - 1) + x · (roi_end -
///   roi_start) · (in - 1) / (scale · in - 1)`, and `extrapolation_value` outside `[0, in - 1]`;
///   tf_half_pixel_for_nn (opset 11): `(x + 0.5) / scale`.
///
/// Modes: `nearest` picks one element (`nearest_mode` round_prefer_floor (default),
/// round_prefer_ceil, floor, ceil; any element type, copied); `linear` and `cubic` (Keys
/// kernel with `cubic_coeff_a`, default -0.75) weight the 2 or 4 neighbours (edge-clamped;
/// `exclude_outside` drops and renormalizes outside taps), or with `antialias` (18+) a filter
/// stretched by `1 / scale` when downsampling. Linear and cubic compute in Float; integer
/// results round half to even and saturate.
///
/// Resize at opset 10 and Upsample use the asymmetric mapping; their nearest mode rounds down
/// when upsampling and up when downsampling (onnxruntime's behaviour for these versions).
/// Upsample takes `scales` as an attribute at opset 7 and as an input from 9.
extension DataMovement {
  enum ResizeMode: String {
    case nearest, linear, cubic
  }

  enum CoordinateMode: String {
    case halfPixel = "half_pixel"
    case halfPixelSymmetric = "half_pixel_symmetric"
    case pytorchHalfPixel = "pytorch_half_pixel"
    case alignCorners = "align_corners"
    case asymmetric
    case tfCropAndResize = "tf_crop_and_resize"
    /// Opset 11 only: `(x + 0.5) / scale`.
    case tfHalfPixelForNN = "tf_half_pixel_for_nn"
  }

  enum NearestMode: String {
    case roundPreferFloor = "round_prefer_floor"
    case roundPreferCeil = "round_prefer_ceil"
    case floor, ceil
    /// Opset-10 Resize and Upsample: floor when upsampling, ceil when downsampling.
    case simple
  }

  struct ResizePlan {
    var mode: ResizeMode
    var coordinates: CoordinateMode
    var nearest: NearestMode
    var cubicA: Double
    var excludeOutside: Bool
    var extrapolation: Double
    var antialias: Bool
    /// Per axis of the input.
    var scales: [Double]
    var sizes: [Int]
    /// `[start..., end...]` per axis, nil when not given.
    var roi: [Double]?
    /// The axes to resize, in order.
    var order: [Int]
  }

  static func resize(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let rank = data.rank
    let modeName = context.string("mode", default: "nearest")
    guard let mode = ResizeMode(rawValue: modeName), context.opsetVersion >= 11 || mode != .cubic else {
      throw context.failure("mode '\(modeName)' is not nearest, linear or cubic")
    }
    if context.opsetVersion < 11 {
      let scales = try floatValues(try context.input(1), context, "scales")
      return [try resample(data, try upsamplePlan(data, scales: scales, mode: mode, context), context)]
    }
    let coordinateName = context.string("coordinate_transformation_mode", default: "half_pixel")
    guard let coordinates = CoordinateMode(rawValue: coordinateName) else {
      throw context.failure("coordinate_transformation_mode '\(coordinateName)' is not supported")
    }
    let nearestName = context.string("nearest_mode", default: "round_prefer_floor")
    guard let nearest = NearestMode(rawValue: nearestName), nearest != .simple else {
      throw context.failure("nearest_mode '\(nearestName)' is not supported")
    }
    let axes: [Int]
    if context.opsetVersion >= 18, let listed = context.ints("axes") {
      axes = try listed.map { try axis($0, rank: rank, context) }
      guard Set(axes).count == axes.count else { throw context.failure("axes \(listed) repeat an axis") }
    } else {
      axes = Array(0..<rank)
    }
    let roiInput = try context.optionalInput(1).map { try floatValues($0, context, "roi") } ?? []
    let scalesInput = try context.optionalInput(2).map { try floatValues($0, context, "scales") } ?? []
    let sizesInput = try context.optionalInput(3).map { try integers($0, context, "sizes") } ?? []
    var scales = [Double](repeating: 1, count: rank)
    var sizes = data.shape
    if !sizesInput.isEmpty {
      guard scalesInput.isEmpty else { throw context.failure("only one of scales and sizes may be given") }
      guard sizesInput.count == axes.count else {
        throw context.failure("sizes \(sizesInput) should hold \(axes.count) values")
      }
      for (k, axis) in axes.enumerated() {
        guard data.shape[axis] > 0, sizesInput[k] >= 0 else {
          throw context.failure("cannot resize axis \(axis) of \(data.typeDescription) to \(sizesInput[k])")
        }
        sizes[axis] = sizesInput[k]
        scales[axis] = Double(sizesInput[k]) / Double(data.shape[axis])
      }
      let policy =
        context.opsetVersion >= 18 ? context.string("keep_aspect_ratio_policy", default: "stretch") : "stretch"
      if policy != "stretch" {
        let candidates = axes.map { scales[$0] }
        guard policy == "not_larger" || policy == "not_smaller", let low = candidates.min(), let high = candidates.max()
        else {
          throw context.failure("keep_aspect_ratio_policy '\(policy)' is not stretch, not_larger or not_smaller")
        }
        let scale = policy == "not_larger" ? low : high
        for axis in axes {
          scales[axis] = scale
          sizes[axis] = try count(scale * Double(data.shape[axis]) + 0.5, context, "output size")
        }
      }
    } else {
      guard scalesInput.count == axes.count else {
        throw context.failure("expected scales (\(axes.count) values) or sizes")
      }
      for (k, axis) in axes.enumerated() {
        guard scalesInput[k] > 0 else { throw context.failure("scales \(scalesInput) should be positive") }
        scales[axis] = scalesInput[k]
        sizes[axis] = try count((scalesInput[k] * Double(data.shape[axis])).rounded(.down), context, "output size")
      }
    }
    var roi: [Double]?
    if !roiInput.isEmpty {
      guard roiInput.count == 2 * axes.count else {
        throw context.failure("roi should hold \(2 * axes.count) values, got \(roiInput.count)")
      }
      var full = [Double](repeating: 0, count: rank) + [Double](repeating: 1, count: rank)
      for (k, axis) in axes.enumerated() {
        full[axis] = roiInput[k]
        full[rank + axis] = roiInput[axes.count + k]
      }
      roi = full
    } else if coordinates == .tfCropAndResize {
      throw context.failure("tf_crop_and_resize needs an roi input")
    }
    let plan = ResizePlan(
      mode: mode, coordinates: coordinates, nearest: nearest,
      cubicA: Double(context.float("cubic_coeff_a", default: -0.75)),
      excludeOutside: context.int("exclude_outside", default: 0) != 0,
      extrapolation: Double(context.float("extrapolation_value", default: 0)),
      antialias: context.opsetVersion >= 18 && context.int("antialias", default: 0) != 0 && mode != .nearest,
      scales: scales, sizes: sizes, roi: roi, order: axes)
    return [try resample(data, plan, context)]
  }

  static func upsample(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let modeName = context.string("mode", default: "nearest")
    let mode: ResizeMode
    switch modeName {
    case "nearest": mode = .nearest
    case "linear", "bilinear": mode = .linear
    default: throw context.failure("mode '\(modeName)' is not nearest or linear")
    }
    let scales: [Double]
    if context.opsetVersion < 9 {
      guard let attribute = context.floats("scales") else { throw context.failure("expected a 'scales' attribute") }
      scales = attribute.map { Double($0) }
    } else {
      scales = try floatValues(try context.input(1), context, "scales")
    }
    guard scales.allSatisfy({ $0 >= 1 }) else { throw context.failure("scales \(scales) should all be 1 or more") }
    return [try resample(data, try upsamplePlan(data, scales: scales, mode: mode, context), context)]
  }

  private static func upsamplePlan(
    _ data: HostTensor, scales: [Double], mode: ResizeMode, _ context: KernelContext
  ) throws -> ResizePlan {
    guard scales.count == data.rank, scales.allSatisfy({ $0 > 0 }) else {
      throw context.failure("scales \(scales) should be \(data.rank) positive values for \(data.typeDescription)")
    }
    let sizes = try zip(scales, data.shape).map { try count(($0 * Double($1)).rounded(.down), context, "output size") }
    return ResizePlan(
      mode: mode, coordinates: .asymmetric, nearest: .simple, cubicA: -0.75, excludeOutside: false,
      extrapolation: 0, antialias: false, scales: scales, sizes: sizes, roi: nil, order: Array(0..<data.rank))
  }

  private static func floatValues(_ tensor: HostTensor, _ context: KernelContext, _ what: String) throws -> [Double] {
    guard tensor.dataType.isFloatingPoint || tensor.dataType.isInteger else {
      throw context.failure("\(what) should be numbers, got \(tensor.typeDescription)")
    }
    return tensor.doubles()
  }

  // MARK: Sampling tables

  /// The taps of one axis: for output `x`, input indices `indices[x * taps + t]` (clamped) with
  /// weights `weights[x * taps + t]`; `outside[x]` marks tf_crop_and_resize extrapolation.
  struct AxisTable {
    var taps: Int
    var indices: [Int]
    var weights: [Double]
    var outside: [Bool]
  }

  private static func isIdentity(_ axis: Int, _ plan: ResizePlan, inputSize: Int) -> Bool {
    let rank = plan.scales.count
    guard abs(plan.scales[axis] - 1) <= 1e-9, plan.sizes[axis] == inputSize else { return false }
    guard let roi = plan.roi else { return true }
    return abs(roi[axis]) <= 1e-9 && abs(roi[rank + axis] - 1) <= 1e-9
  }

  private static func table(_ axis: Int, _ plan: ResizePlan, inputSize n: Int) -> AxisTable {
    let rank = plan.scales.count
    let scale = plan.scales[axis]
    let outputCount = plan.sizes[axis]
    let outputWidth = scale * Double(n)
    let inputWidth = Double(n)
    var taps = 1
    var table = AxisTable(taps: 1, indices: [], weights: [], outside: [Bool](repeating: false, count: outputCount))
    for x in 0..<outputCount {
      let position = Double(x)
      var source: Double
      switch plan.coordinates {
      case .alignCorners:
        source = outputWidth == 1 ? 0 : position * (inputWidth - 1) / (outputWidth - 1)
      case .asymmetric:
        source = position / scale
      case .tfCropAndResize:
        let start = plan.roi?[axis] ?? 0
        let end = plan.roi?[rank + axis] ?? 1
        source =
          outputWidth == 1
          ? (end - start) * (inputWidth - 1) / 2 : position * (end - start) * (inputWidth - 1) / (outputWidth - 1)
        source += start * (inputWidth - 1)
        if source < 0 || source > inputWidth - 1 { table.outside[x] = true }
      case .pytorchHalfPixel:
        source = outputWidth == 1 ? -0.5 : (position + 0.5) / scale - 0.5
      case .halfPixel:
        source = (position + 0.5) / scale - 0.5
      case .tfHalfPixelForNN:
        source = (position + 0.5) / scale
      case .halfPixelSymmetric:
        let adjustment = Double(outputCount) / outputWidth
        let offset = inputWidth / 2 * (1 - adjustment)
        source = offset + (position + 0.5) / scale - 0.5
      }
      // Keep hostile scales and rois from overflowing the index arithmetic below.
      source = source.isFinite ? min(max(source, -1e15), 1e15) : 0
      if plan.mode == .nearest {
        let floor = source.rounded(.down)
        let ratio = source - floor
        var index: Int
        if ratio == 0 {
          index = Int(floor)
        } else {
          switch plan.nearest {
          case .roundPreferFloor: index = Int(floor) + (ratio <= 0.5 ? 0 : 1)
          case .roundPreferCeil: index = Int(floor) + (ratio < 0.5 ? 0 : 1)
          case .floor: index = Int(floor)
          case .ceil: index = Int(floor) + 1
          case .simple: index = scale < 1 ? Int(source.rounded(.up)) : Int(source.rounded(.towardZero))
          }
        }
        table.indices.append(min(max(index, 0), n - 1))
        continue
      }
      // Linear and cubic: ratio in (0, 1], taps starting at xi - (taps / 2 - 1).
      var xi = source.rounded(.down)
      var ratio = source - xi
      if ratio == 0 {
        xi -= 1
        ratio = 1
      }
      let coefficients = weights(ratio, scale: scale, plan)
      taps = coefficients.count
      let first = Int(xi) - (taps / 2 - 1)
      var row = coefficients
      if plan.excludeOutside {
        for t in 0..<taps where first + t < 0 || first + t >= n { row[t] = 0 }
        let sum = numpySum(row)
        if sum != 0 { row = row.map { $0 / sum } }
      }
      for t in 0..<taps {
        table.indices.append(min(max(first + t, 0), n - 1))
        table.weights.append(row[t])
      }
    }
    table.taps = taps
    return table
  }

  /// The filter weights of the taps around a point at `ratio` past the left neighbour.
  private static func weights(_ ratio: Double, scale: Double, _ plan: ResizePlan) -> [Double] {
    let a = plan.cubicA
    switch (plan.mode, plan.antialias) {
    case (.linear, false):
      return [1 - ratio, ratio]
    case (.linear, true):
      let s = min(scale, 1)
      let start = Int((-1 / s).rounded(.down)) + 1
      let footprint = 2 - 2 * start
      let values = (0..<footprint).map { max(0, min(1, 1 - abs((Double(start + $0) - ratio) * s))) }
      let sum = values.reduce(0, +)
      return values.map { $0 / sum }
    case (.cubic, false):
      // The reference computes cubic weights in float32 (its `cubic_coeff_a` is a float32
      // scalar); do the same so that integer results round alike.
      let a = Float(a)
      let r = Float(ratio)
      let r1 = Float(ratio + 1)
      let q = Float(1 - ratio)
      let q1 = Float((1 - ratio) + 1)
      let weights: [Float] = [
        ((a * r1 - 5 * a) * r1 + 8 * a) * r1 - 4 * a,
        ((a + 2) * r - (a + 3)) * r * r + 1,
        ((a + 2) * q - (a + 3)) * q * q + 1,
        ((a * q1 - 5 * a) * q1 + 8 * a) * q1 - 4 * a,
      ]
      return weights.map { Double($0) }
    case (.cubic, true):
      let a = Float(a)
      let s = min(scale, 1)
      let start = Int((-2 / s).rounded(.down)) + 1
      let end = 2 - start
      let values = (start..<end).map { i -> Float in
        let x = abs(s * (Double(i) - ratio))
        let x2 = x * x
        let x3 = x * x2
        if x <= 1 { return (a + 2) * Float(x3) - (a + 3) * Float(x2) + 1 }
        if x < 2 { return a * Float(x3) - 5 * a * Float(x2) + 8 * a * Float(x) - 4 * a }
        return 0
      }
      var sum: Float = 0
      for value in values { sum += value }
      return values.map { Double($0) / Double(sum) }
    case (.nearest, _):
      return [0, 1]
    }
  }

  // MARK: Sampling

  private static func resample(_ data: HostTensor, _ plan: ResizePlan, _ context: KernelContext) throws -> HostTensor {
    try checkShape(plan.sizes, context)
    guard data.dataType != .string else { throw context.failure("expected a numeric or bool input, got strings") }
    for axis in plan.order where data.shape[axis] == 0 && plan.sizes[axis] > 0 {
      throw context.failure("cannot resize axis \(axis) of size 0 to \(plan.sizes[axis])")
    }
    if plan.mode == .nearest { return try nearest(data, plan, context) }
    // Integers interpolate in Double so that rounding sees the reference's values; floats in Float.
    let result =
      data.dataType.isInteger
      ? interpolateAll(data, plan, as: Double.self) : interpolateAll(data, plan, as: Float.self)
    guard let result else { throw context.failure("cannot interpolate \(data.dataType.name)") }
    return result
  }

  private static func interpolateAll<V: BinaryFloatingPoint>(
    _ data: HostTensor, _ plan: ResizePlan, as _: V.Type
  ) -> HostTensor? {
    guard var values = numbers(data, as: V.self) else { return nil }
    var shape = data.shape
    for axis in plan.order where !isIdentity(axis, plan, inputSize: shape[axis]) {
      let table = table(axis, plan, inputSize: shape[axis])
      values = interpolate(values, shape: shape, axis: axis, table: table, extrapolation: V(plan.extrapolation))
      shape[axis] = plan.sizes[axis]
    }
    return tensor(values, data.dataType, shape: shape)
  }

  /// One separable pass: `[outer, in, inner] -> [outer, out, inner]`.
  private static func interpolate<V: BinaryFloatingPoint>(
    _ values: [V], shape: [Int], axis: Int, table: AxisTable, extrapolation: V
  ) -> [V] {
    let outer = product(shape[..<axis])
    let inner = product(shape[(axis + 1)...])
    let inputCount = shape[axis]
    let outputCount = table.outside.count
    var result = [V](repeating: 0, count: outer * outputCount * inner)
    let weights = table.weights.map { V($0) }
    let taps = table.taps
    var products = [V](repeating: 0, count: taps)
    values.withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { target in
        for o in 0..<outer {
          for x in 0..<outputCount {
            let destination = (o * outputCount + x) * inner
            if table.outside[x] {
              for i in 0..<inner { target[destination + i] = extrapolation }
              continue
            }
            if inner == 1 && taps >= 8 {
              // Contiguous taps: NumPy sums them pairwise; follow it for identical rounding.
              for t in 0..<taps {
                products[t] = weights[x * taps + t] * source[o * inputCount + table.indices[x * taps + t]]
              }
              target[destination] = numpySum(products)
              continue
            }
            for t in 0..<taps {
              let weight = weights[x * taps + t]
              let from = (o * inputCount + table.indices[x * taps + t]) * inner
              for i in 0..<inner { target[destination + i] += weight * source[from + i] }
            }
          }
        }
      }
    }
    return result
  }

  /// The sum NumPy computes for a contiguous array: sequential below 8 elements, eight
  /// interleaved partial sums up to 128, halves (aligned to 8) above.
  static func numpySum<V: BinaryFloatingPoint>(_ values: [V]) -> V {
    values.withUnsafeBufferPointer { pairwiseSum($0[...]) }
  }

  private static func pairwiseSum<V: BinaryFloatingPoint>(_ a: Slice<UnsafeBufferPointer<V>>) -> V {
    let n = a.count
    let base = a.startIndex
    if n < 8 {
      var result: V = 0
      for i in a.indices { result += a[i] }
      return result
    }
    if n <= 128 {
      var (r0, r1, r2, r3) = (a[base], a[base + 1], a[base + 2], a[base + 3])
      var (r4, r5, r6, r7) = (a[base + 4], a[base + 5], a[base + 6], a[base + 7])
      var i = 8
      while i < n - n % 8 {
        r0 += a[base + i]
        r1 += a[base + i + 1]
        r2 += a[base + i + 2]
        r3 += a[base + i + 3]
        r4 += a[base + i + 4]
        r5 += a[base + i + 5]
        r6 += a[base + i + 6]
        r7 += a[base + i + 7]
        i += 8
      }
      var result = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
      while i < n {
        result += a[base + i]
        i += 1
      }
      return result
    }
    var half = n / 2
    half -= half % 8
    return pairwiseSum(a[base..<(base + half)]) + pairwiseSum(a[(base + half)...])
  }

  /// Nearest: one gather over all axes with per-axis index maps; rows that any axis
  /// extrapolates take the extrapolation value.
  private static func nearest(_ data: HostTensor, _ plan: ResizePlan, _ context: KernelContext) throws -> HostTensor {
    let rank = data.rank
    var maps: [[Int]] = []
    for axis in 0..<rank {
      if !plan.order.contains(axis) || isIdentity(axis, plan, inputSize: data.shape[axis]) {
        maps.append(Array(0..<data.shape[axis]))
      } else {
        let table = table(axis, plan, inputSize: data.shape[axis])
        maps.append(zip(table.indices, table.outside).map { $1 ? -1 : $0 })
      }
    }
    let size = data.dataType.storageStride
    let pattern =
      tensor([Float(plan.extrapolation)], data.dataType, shape: [1]).map {
        Array(UnsafeRawBufferPointer(start: $0.buffer.raw, count: size))
      } ?? [UInt8](repeating: 0, count: size)
    let result = HostTensor(zeros: data.dataType, shape: plan.sizes)
    guard result.count > 0 else { return result }
    if rank == 0 {
      result.buffer.raw.copyMemory(from: data.buffer.raw, byteCount: size)
      return result
    }
    let dataStrides = strides(data.shape)
    let last = rank - 1
    let width = plan.sizes[last]
    // Offsets (in elements) of the last axis, -1 where extrapolated.
    let lastOffsets = maps[last]
    let rows = result.count / width
    var index = [Int](repeating: 0, count: rank)
    func run<T>(_: T.Type) {
      let source = data.pointer(T.self)
      let target = result.pointer(T.self)
      var fillValue = target[0]
      withUnsafeMutableBytes(of: &fillValue) { raw in
        for (i, byte) in pattern.enumerated() where i < raw.count { raw[i] = byte }
      }
      var out = 0
      for _ in 0..<rows {
        var base = 0
        var outside = false
        for axis in 0..<last {
          let i = maps[axis][index[axis]]
          if i < 0 { outside = true }
          base += i * dataStrides[axis]
        }
        if outside {
          for j in 0..<width { target[out + j] = fillValue }
        } else {
          for j in 0..<width {
            let i = lastOffsets[j]
            target[out + j] = i < 0 ? fillValue : source[base + i]
          }
        }
        out += width
        var axis = last - 1
        while axis >= 0 {
          index[axis] += 1
          if index[axis] < plan.sizes[axis] { break }
          index[axis] = 0
          axis -= 1
        }
      }
    }
    switch size {
    case 1: run(UInt8.self)
    case 2: run(UInt16.self)
    case 4: run(UInt32.self)
    case 8: run(UInt64.self)
    default: run(Element16.self)
    }
    return result
  }
}
