import Foundation

/// The quantization parameters a QuantizeLinear or DequantizeLinear node carries, read and checked
/// for lowering: the scale and zero point must be constants; scales positive and finite; zero
/// points inside their type's range. `value` names the node's integer side (the DQ input or the
/// Q output).
public struct QDQParameters: Equatable {
  public var scales: [Float]
  public var zeroPoints: [Int32]
  public var type: DataType
  public var axis: Int?
  public var blockSize: Int?
  /// The scale and zero-point values as they appear in the graph (reused by integer nodes).
  public var scaleValue: Value
  public var zeroPointValue: Value?

  public static func == (lhs: QDQParameters, rhs: QDQParameters) -> Bool {
    lhs.scales == rhs.scales && lhs.zeroPoints == rhs.zeroPoints && lhs.type == rhs.type
      && (lhs.isPerTensor || lhs.axis == rhs.axis) && lhs.blockSize == rhs.blockSize
  }

  public var isPerTensor: Bool { scales.count == 1 && blockSize == nil }

  /// Reads the parameters of `node` (QuantizeLinear or DequantizeLinear), or says why not.
  public static func read(_ node: Node, model: Model) -> Result<QDQParameters, LoweringRefusal> {
    guard let scaleValue = node.input(1) else { return .failure(.init("\(node.label) has no scale input")) }
    guard let scale = scaleValue.constantHostTensor(in: model), scale.dataType == .float else {
      return .failure(.init("scale '\(scaleValue.name)' of \(node.label) is not a float32 constant"))
    }
    let scales = scale.values(Float.self)
    if let bad = scales.first(where: { !($0 > 0) || !$0.isFinite }) {
      return .failure(
        .init("scale '\(scaleValue.name)' of \(node.label) holds \(bad); scales must be positive and finite"))
    }
    var zeroPoints = [Int32](repeating: 0, count: scales.count)
    var type: DataType = node.opType == "QuantizeLinear" ? .uint8 : .undefined
    let zeroPointValue = node.input(2)
    if let zeroPointValue {
      guard let zeroPoint = zeroPointValue.constantHostTensor(in: model) else {
        return .failure(.init("zero point '\(zeroPointValue.name)' of \(node.label) is not a constant"))
      }
      guard let values = QuantizedValues.int32s(zeroPoint), let range = QuantizedValues.range(zeroPoint.dataType) else {
        return .failure(
          .init("zero point '\(zeroPointValue.name)' of \(node.label) has type \(zeroPoint.dataType.name)"))
      }
      if let bad = values.first(where: { !range.contains($0) }) {
        return .failure(.init("zero point '\(zeroPointValue.name)' of \(node.label) holds \(bad), outside \(range)"))
      }
      guard values.count == scales.count else {
        return .failure(
          .init(
            "zero point '\(zeroPointValue.name)' of \(node.label) has \(values.count) values for \(scales.count) scales"
          ))
      }
      zeroPoints = values
      type = zeroPoint.dataType
    }
    if node.opType == "DequantizeLinear", let input = node.input(0) {
      if let constant = input.constantTensor(in: model) { type = constant.elementType }
    }
    if case .int(let toType)? = node.attribute("output_dtype")?.value, toType != 0 {
      type = DataType(rawValue: Int32(toType))
    }
    let axis = scales.count > 1 || scale.rank > 0 ? Int(node.int("axis", default: 1)) : nil
    let block = node.int("block_size", default: 0)
    return .success(
      QDQParameters(
        scales: scales, zeroPoints: zeroPoints, type: type, axis: axis, blockSize: block > 0 ? Int(block) : nil,
        scaleValue: scaleValue, zeroPointValue: zeroPointValue))
  }
}

/// Why a lowering rule left a node float; `--explain` prints it and the report lists it.
public struct LoweringRefusal: Error, Equatable {
  public var reason: String
  public init(_ reason: String) { self.reason = reason }
}
