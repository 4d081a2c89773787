import Foundation

/// What a conversion may need to know about a value it does not produce: its rank, its element
/// type, and its elements when it is a constant.
///
/// Each fact comes from the model's declarations first (graph input and output types,
/// value_info, initializers, `Constant` nodes), then from a short walk up through producers whose
/// output keeps the rank or element type of their first input (Relu, Conv, Add, ...), and is nil
/// when neither says. A nil fact makes a conversion take its general form or refuse; it never
/// makes it guess.
extension OpsetConversionContext {
  /// Ops whose first output has the rank and element type of their first input.
  static let preservingOps: Set<String> = [
    "Abs", "Acos", "Add", "AveragePool", "BatchNormalization", "Ceil", "Clip", "Conv", "ConvTranspose",
    "Cos", "Div", "Dropout", "Elu", "Erf", "Exp", "Floor", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool",
    "HardSigmoid", "HardSwish", "Hardmax", "Identity", "InstanceNormalization", "LRN", "LeakyRelu", "Log",
    "LogSoftmax", "LpNormalization", "LpPool", "MaxPool", "Mul", "Neg", "PRelu", "Pad", "Pow", "Reciprocal", "Relu",
    "Resize", "Round", "Selu", "Sigmoid", "Sign", "Sin", "Softmax", "Softplus", "Softsign", "Sqrt", "Sub", "Tanh",
    "Transpose", "Upsample",
  ]

  /// The rank of `value`, when the model declares or implies it.
  func rank(of value: Value) -> Int? { rank(of: value, depth: 0) }

  private func rank(of value: Value, depth: Int) -> Int? {
    if let dims = value.type?.tensorType?.shape?.dims { return dims.count }
    if let tensor = value.initializer { return tensor.dims.count }
    guard depth < 256, let producer = value.producer, producer.isStandard, value.outputIndex == 0 else { return nil }
    switch producer.opType {
    case "Constant": return constantTensor(of: value).map(\.shape.count)
    case "Gemm", "Flatten": return 2
    case "Reshape":
      guard let shape = producer.input(1).flatMap({ constantTensor(of: $0) }), shape.shape.count == 1 else {
        return nil
      }
      return shape.count
    case "Concat":
      return producer.inputs.compactMap { $0 }.lazy.compactMap { self.rank(of: $0, depth: depth + 1) }.first
    case "Add", "Sub", "Mul", "Div", "Pow", "PRelu":
      let ranks = producer.inputs.map { $0.flatMap { self.rank(of: $0, depth: depth + 1) } }
      guard !ranks.isEmpty, ranks.allSatisfy({ $0 != nil }) else { return nil }
      return ranks.compactMap { $0 }.max()
    default:
      guard Self.preservingOps.contains(producer.opType), let input = producer.input(0) else { return nil }
      return rank(of: input, depth: depth + 1)
    }
  }

  /// The element type of `value`, when the model declares or implies it.
  func elementType(of value: Value) -> DataType? { elementType(of: value, depth: 0) }

  private func elementType(of value: Value, depth: Int) -> DataType? {
    if let type = value.type?.tensorType?.elementType, type != .undefined { return type }
    if let tensor = value.initializer { return tensor.elementType }
    guard depth < 256, let producer = value.producer, producer.isStandard, value.outputIndex == 0 else { return nil }
    switch producer.opType {
    case "Constant": return constantTensor(of: value)?.dataType
    case "Cast":
      guard case .int(let code)? = producer.attribute("to")?.value, let raw = Int32(exactly: code) else {
        return nil
      }
      return DataType(rawValue: raw)
    case "Concat", "Flatten", "Gemm", "MatMul", "Reshape", "Squeeze", "Unsqueeze", "Slice", "Gather", "Expand",
      "Tile", "Split":
      return producer.input(0).flatMap { elementType(of: $0, depth: depth + 1) }
    default:
      guard Self.preservingOps.contains(producer.opType), let input = producer.input(0) else { return nil }
      return elementType(of: input, depth: depth + 1)
    }
  }

  /// The elements of `value` when it is a constant: an initializer that cannot be overridden,
  /// or the output of a `Constant` node holding a dense `value` tensor.
  func constantTensor(of value: Value) -> HostTensor? {
    if let host = value.constantHostTensor(in: model) { return host }
    guard let producer = value.producer, producer.isStandard, producer.opType == "Constant",
      case .tensor(let tensor)? = producer.attribute("value")?.value
    else { return nil }
    return try? HostTensor(tensor)
  }
}
