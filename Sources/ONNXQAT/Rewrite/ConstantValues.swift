import Foundation

extension Value {
  /// The constant tensor this value holds, for passes that read weights: a dense initializer
  /// that a caller cannot override. An initializer that is also a graph input is an overridable
  /// default from IR version 4 on, so it counts as constant only in older models (where every
  /// initializer had to be listed as an input).
  public func constantTensor(in model: Model) -> Tensor? {
    isConstant(in: model) ? initializer : nil
  }

  /// Whether `constantTensor(in:)` has a tensor, without copying it.
  public func isConstant(in model: Model) -> Bool {
    guard hasInitializer else { return false }
    if let graph = owningGraph, graph.inputs.contains(where: { $0 === self }), (model.irVersion ?? 3) >= 4 {
      return false
    }
    return true
  }

  /// The element type of `constantTensor(in:)`, without copying the tensor.
  public func constantElementType(in model: Model) -> DataType? {
    isConstant(in: model) ? initializer?.elementType : nil
  }

  /// The constant decoded into memory; nil when not constant or not decodable.
  public func constantHostTensor(in model: Model) -> HostTensor? {
    constantTensor(in: model).flatMap { try? HostTensor($0) }
  }

  /// The constant's elements as Float (float, float16, double, and integer types converted).
  public func constantFloats(in model: Model) -> (shape: [Int], values: [Float])? {
    guard let host = constantHostTensor(in: model), host.dataType != .string else { return nil }
    if host.dataType == .float { return (host.shape, host.values(Float.self)) }
    return (host.shape, host.doubles().map { Float($0) })
  }

  /// The single user of this value, when it has exactly one use and is not a graph output.
  public var soleUser: Node? {
    var users = self.users.makeIterator()
    guard let user = users.next(), users.next() == nil, let graph = self.graph,
      !graph.outputs.contains(where: { $0 === self })
    else { return nil }
    return user
  }
}

extension Node {
  /// The `ints` attribute `name`, or `fallback`.
  public func ints(_ name: String, default fallback: [Int64]) -> [Int64] {
    if case .ints(let values)? = attribute(name)?.value { return values }
    return fallback
  }

  /// The `int` attribute `name`, or `fallback`.
  public func int(_ name: String, default fallback: Int64) -> Int64 {
    if case .int(let value)? = attribute(name)?.value { return value }
    return fallback
  }

  /// The `float` attribute `name`, or `fallback`.
  public func float(_ name: String, default fallback: Float) -> Float {
    if case .float(let value)? = attribute(name)?.value { return value }
    return fallback
  }

  /// Input `index` when present.
  public func input(_ index: Int) -> Value? { index < inputs.count ? inputs[index] : nil }

  /// True when the node is in the default (ai.onnx) domain.
  public var isStandard: Bool { domain.isEmpty || domain == "ai.onnx" }
}

extension HostTensor {
  /// A float32 tensor from values.
  public static func floats(_ values: [Float], shape: [Int]) -> HostTensor {
    HostTensor(.float, shape: shape, values: values)
  }
}
