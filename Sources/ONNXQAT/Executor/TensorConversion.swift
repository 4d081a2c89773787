import Foundation

extension HostTensor {
  /// Decodes an IR tensor (any storage field, external data included) into memory.
  /// Sub-byte payloads are unpacked, lowest bits first; sign-extended for int4 and int2.
  public init(_ tensor: Tensor) throws {
    let shape = tensor.dims.map { Int($0) }
    let name = tensor.name ?? ""
    if tensor.elementType == .string {
      let strings = tensor.stringData.map { String(decoding: $0, as: UTF8.self) }
      guard strings.count == shape.reduce(1, *) else {
        throw ONNXQATError.badArgument("tensor '\(name)': \(strings.count) strings for shape \(shape)")
      }
      self.init(strings: strings, shape: shape)
      return
    }
    guard let bits = tensor.elementType.bitWidth else {
      throw ONNXQATError.badArgument("tensor '\(name)': element type \(tensor.elementType.name) is not supported")
    }
    guard let payload = tensor.payloadBytes() else {
      throw ONNXQATError.badArgument("tensor '\(name)': its payload is not available (external data not loaded?)")
    }
    // Every element is written below (copied, or unpacked one by one).
    self.init(uninitialized: tensor.elementType, shape: shape)
    let count = self.count
    let expected = (count * bits + 7) / 8
    guard payload.count >= expected else {
      throw ONNXQATError.badArgument(
        "tensor '\(name)': \(payload.count) payload bytes for \(tensor.elementType.name)\(shape), expected \(expected)")
    }
    let destination = buffer.raw
    payload.withUnsafeBytes { source in
      guard let base = source.baseAddress else { return }
      if bits >= 8 {
        destination.copyMemory(from: base, byteCount: count * storageStride)
        return
      }
      let signed = tensor.elementType.isSigned
      for index in 0..<count {
        let field = TensorValues.unsignedField(source, index: index, bits: bits)
        let value = signed && field >= UInt8(1 << (bits - 1)) ? field &- UInt8(1 << bits) : field
        destination.storeBytes(of: value, toByteOffset: index, as: UInt8.self)
      }
    }
  }

  private var storageStride: Int { dataType.storageStride }

  /// Encodes this tensor as an IR tensor with `raw_data` (strings in `string_data`).
  public func irTensor(name: String?) -> Tensor {
    var tensor = Tensor(name: name, dataType: dataType, dims: shape.map(Int64.init))
    if dataType == .string {
      tensor.stringData = strings.map { Data($0.utf8) }
      return tensor
    }
    let bits = dataType.bitWidth ?? 8
    if bits >= 8 {
      tensor.rawData = Data(bytes: buffer.raw, count: count * dataType.storageStride)
      return tensor
    }
    var packed = [UInt8](repeating: 0, count: (count * bits + 7) / 8)
    let mask = UInt16((1 << bits) - 1)
    for index in 0..<count {
      let bit = index * bits
      let field = (UInt16(buffer.raw.load(fromByteOffset: index, as: UInt8.self)) & mask) << UInt16(bit % 8)
      packed[bit / 8] |= UInt8(truncatingIfNeeded: field)
      if bit / 8 + 1 < packed.count { packed[bit / 8 + 1] |= UInt8(truncatingIfNeeded: field >> 8) }
    }
    tensor.rawData = Data(packed)
    return tensor
  }
}
