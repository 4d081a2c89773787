import Foundation

/// The shapes of the inputs of AveragePool and GlobalAveragePool nodes, for lowering them to
/// integer sums (the divisor and the channel count must be constants): from the value's type
/// when it is static, otherwise observed by running the graph once through the executor on
/// zeros (symbolic dimensions taken as 1, so only the channel and spatial dimensions are used).
/// Empty when the graph has no such pool or cannot be run (the rule then refuses, skip 3).
enum PoolInputShapes {
  static func probe(_ model: Model) -> [ObjectIdentifier: [Int]] {
    let pools = model.graph.nodes.filter { ["AveragePool", "GlobalAveragePool"].contains($0.opType) }
    var shapes: [ObjectIdentifier: [Int]] = [:]
    var missing: Set<ObjectIdentifier> = []
    for pool in pools {
      guard let input = pool.input(0) else { continue }
      if let shape = LowerPoolingToInteger.staticShape(input) {
        shapes[ObjectIdentifier(input)] = shape
      } else {
        missing.insert(ObjectIdentifier(input))
      }
    }
    guard !missing.isEmpty else { return shapes }
    var feeds: [String: HostTensor] = [:]
    for value in model.graph.inputs where value.initializer == nil {
      guard let type = value.type?.tensorType, let elementType = type.elementType, let dims = type.shape?.dims else {
        return shapes
      }
      let shape = dims.map { dimension -> Int in
        if case .known(let size) = dimension.size { return Int(size) }
        return 1
      }
      feeds[value.name] = HostTensor(zeros: elementType, shape: shape)
    }
    guard let interpreter = try? Interpreter(model: model) else { return shapes }
    interpreter.observer = { value, tensor in
      if missing.contains(ObjectIdentifier(value)) { shapes[ObjectIdentifier(value)] = tensor.shape }
    }
    _ = try? interpreter.run(feeds)
    return shapes
  }
}
