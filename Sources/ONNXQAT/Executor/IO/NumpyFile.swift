import Foundation

/// NumPy `.npy` files (format versions 1-3): little-endian numeric and bool arrays in C order.
public enum NumpyFile {
  private static let magic: [UInt8] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]

  private static let descriptors: [(String, DataType)] = [
    ("f4", .float), ("f8", .double), ("f2", .float16), ("i1", .int8), ("u1", .uint8), ("i2", .int16),
    ("u2", .uint16), ("i4", .int32), ("u4", .uint32), ("i8", .int64), ("u8", .uint64), ("b1", .bool),
  ]

  /// Parses `.npy` bytes; `name` is used in messages (file name, or archive member).
  public static func read(_ data: Data, name: String) throws -> HostTensor {
    func fail(_ reason: String) -> ONNXQATError { .badArgument("\(name): \(reason)") }
    let bytes = [UInt8](data.prefix(12))
    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a .npy file (no \\x93NUMPY magic)") }
    let major = bytes[6]
    let headerLength: Int
    let headerStart: Int
    switch major {
    case 1:
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    case 2, 3:
      guard bytes.count >= 12 else { throw fail("the .npy header is cut off") }
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      headerStart = 12
    default: throw fail(".npy format version \(major) is not supported (expected 1, 2 or 3)")
    }
    guard data.count >= headerStart + headerLength else { throw fail("the .npy header is cut off") }
    let header = String(
      decoding: data[(data.startIndex + headerStart)..<(data.startIndex + headerStart + headerLength)], as: UTF8.self)
    guard let descr = value(of: "descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) else {
      throw fail("the .npy header has no 'descr'")
    }
    if value(of: "fortran_order", in: header) == "True" {
      throw fail("the array is in Fortran order; save it in C order (numpy.ascontiguousarray)")
    }
    guard let shapeText = value(of: "shape", in: header) else { throw fail("the .npy header has no 'shape'") }
    let shape = try shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
      .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      .map { text -> Int in
        guard let size = Int(text), size >= 0 else { throw fail("shape \(shapeText) is not a tuple of sizes") }
        return size
      }
    let byteOrder = descr.first
    let code = String(descr.dropFirst())
    guard byteOrder == "<" || byteOrder == "|" || (byteOrder == "=" && code != ""),
      let type = descriptors.first(where: { $0.0 == code })?.1
    else {
      throw fail(
        "dtype '\(descr)' is not supported (expected little-endian float16/32/64, int8-64, uint8-64 or bool)")
    }
    let payloadStart = headerStart + headerLength
    var byteCount: Int? = type.storageStride
    for size in shape {
      byteCount = byteCount.flatMap { bytes in
        let (product, overflow) = bytes.multipliedReportingOverflow(by: size)
        return overflow ? nil : product
      }
    }
    guard let byteCount, data.count - payloadStart >= byteCount else {
      let needed = byteCount.map { "\($0)" } ?? "more than can be addressed"
      throw fail("holds \(data.count - payloadStart) data bytes; \(descr)\(shape) needs \(needed)")
    }
    let tensor = HostTensor(uninitialized: type, shape: shape)
    data.withUnsafeBytes { raw in
      if let base = raw.baseAddress, byteCount > 0 {
        tensor.buffer.raw.copyMemory(from: base + payloadStart, byteCount: byteCount)
      }
    }
    return tensor
  }

  /// The text after `'key':` in a header dict, up to the next top-level comma.
  private static func value(of key: String, in header: String) -> String? {
    guard let range = header.range(of: "'\(key)':") else { return nil }
    var depth = 0
    var result = ""
    for character in header[range.upperBound...] {
      if character == "(" { depth += 1 }
      if character == ")" { depth -= 1 }
      if (character == "," || character == "}") && depth == 0 { break }
      result.append(character)
    }
    return result.trimmingCharacters(in: .whitespaces)
  }

  /// Encodes `tensor` as a version-1 `.npy` file. Types NumPy has no dtype for (bfloat16,
  /// float8, 4-bit) are refused.
  public static func write(_ tensor: HostTensor, name: String) throws -> Data {
    guard let code = descriptors.first(where: { $0.1 == tensor.dataType })?.0 else {
      throw ONNXQATError.badArgument("\(name): \(tensor.dataType.name) has no .npy dtype")
    }
    let shape =
      tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(\(tensor.shape.map(String.init).joined(separator: ", ")))"
    var header =
      "{'descr': '\(code.hasPrefix("i1") || code.hasPrefix("u1") || code == "b1" ? "|" : "<")\(code)', 'fortran_order': False, 'shape': \(shape), }"
    let total = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
    var data = Data(magic + [1, 0])
    let length = header.utf8.count
    data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
    data.append(contentsOf: Array(header.utf8))
    data.append(Data(bytes: tensor.buffer.raw, count: tensor.count * tensor.dataType.storageStride))
    return data
  }
}
