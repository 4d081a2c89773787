import Foundation

/// The scales and zero points `lower --int-io` writes into a model's metadata
/// (`onnx-qat.io.NAME` = `{"type": "uint8", "scale": 0.02, "zero_point": 128}`, ExposeIntegerIO),
/// used by `verify` to feed an integer-IO graph the float samples and read its outputs as floats:
/// inputs quantized as QuantizeLinear does (`saturate(roundHalfToEven(x / scale) + zero_point)`,
/// the division in Float), outputs dequantized as DequantizeLinear does
/// (`Float(q - zero_point) * scale`), so the integer graph sees exactly the integers the fake-quant
/// graph's QuantizeLinear makes and its outputs compare with the fake-quant graph's.
public struct IntegerIOParameters: Equatable {
  /// One exposed tensor's parameters.
  public struct Parameters: Equatable {
    public var type: DataType
    public var scale: Float
    public var zeroPoint: Int32
  }

  /// By graph input or output name.
  public var tensors: [String: Parameters] = [:]

  static let prefix = "onnx-qat.io."

  /// Reads every `onnx-qat.io.NAME` entry of `model`'s metadata; a malformed entry is an error
  /// naming it.
  public init(_ model: Model) throws {
    for pair in model.metadataProps where pair.key.hasPrefix(Self.prefix) {
      let name = String(pair.key.dropFirst(Self.prefix.count))
      let object = try? JSONSerialization.jsonObject(with: Data(pair.value.utf8)) as? [String: Any]
      guard let object, let typeName = object["type"] as? String,
        let type = DataType(name: typeName), let range = QuantizedValues.range(type),
        let scale = (object["scale"] as? NSNumber)?.floatValue, scale > 0, scale.isFinite,
        let zeroPoint = (object["zero_point"] as? NSNumber)?.int32Value, range.contains(zeroPoint)
      else {
        throw ONNXQATError.badArgument(
          "metadata '\(pair.key)' = '\(pair.value)': expected {\"type\": an integer type, \"scale\": a positive number, "
            + "\"zero_point\": an integer in the type's range}")
      }
      tensors[name] = Parameters(type: type, scale: scale, zeroPoint: zeroPoint)
    }
  }

  /// `sample` with every float input that has parameters quantized to its integer type.
  public func quantize(_ sample: [String: HostTensor]) throws -> [String: HostTensor] {
    var result = sample
    for (name, tensor) in sample {
      guard let parameters = tensors[name], tensor.dataType == .float,
        let range = QuantizedValues.range(parameters.type)
      else { continue }
      let values = tensor.values(Float.self).map { x -> Int32 in
        let q = (x / parameters.scale).rounded(.toNearestOrEven)
        guard !q.isNaN else { return Int32(min(max(parameters.zeroPoint, range.lowerBound), range.upperBound)) }
        let shifted = Double(q) + Double(parameters.zeroPoint)
        return Int32(min(max(shifted, Double(range.lowerBound)), Double(range.upperBound)))
      }
      result[name] = QuantizedValues.tensor(values, type: parameters.type, shape: tensor.shape)
    }
    return result
  }

  /// `outputs` with every integer output that has parameters dequantized to Float.
  public func dequantize(_ outputs: [String: HostTensor]) -> [String: HostTensor] {
    var result = outputs
    for (name, tensor) in outputs {
      guard let parameters = tensors[name], let values = QuantizedValues.int32s(tensor), tensor.dataType != .float
      else { continue }
      let floats = values.map { Float($0 - parameters.zeroPoint) * parameters.scale }
      result[name] = HostTensor(.float, shape: tensor.shape, values: floats)
    }
    return result
  }
}
