import Foundation

/// A DEFLATE (RFC 1951) decoder, for `.npz` archives written with `numpy.savez_compressed`.
/// Stored, fixed-Huffman and dynamic-Huffman blocks; errors on malformed streams instead of
/// trapping.
enum Inflate {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  private struct BitReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0
    var bitBuffer: UInt64 = 0
    var bitCount = 0

    mutating func bits(_ count: Int) throws -> Int {
      while bitCount < count {
        guard position < bytes.count else { throw Failure(description: "the deflate stream ends early") }
        bitBuffer |= UInt64(bytes[position]) << UInt64(bitCount)
        position += 1
        bitCount += 8
      }
      let value = Int(bitBuffer & ((1 << UInt64(count)) - 1))
      bitBuffer >>= UInt64(count)
      bitCount -= count
      return value
    }

    mutating func alignToByte() {
      bitBuffer = 0
      bitCount = 0
    }
  }

  /// Canonical Huffman decoding table: symbols sorted by code, counts per length.
  private struct Huffman {
    var counts = [Int](repeating: 0, count: 16)
    var symbols: [Int] = []

    init(lengths: [Int]) {
      for length in lengths { counts[length] += 1 }
      counts[0] = 0
      var offsets = [Int](repeating: 0, count: 16)
      for length in 1..<16 { offsets[length] = offsets[length - 1] + counts[length - 1] }
      symbols = [Int](repeating: 0, count: lengths.count)
      for (symbol, length) in lengths.enumerated() where length != 0 {
        symbols[offsets[length]] = symbol
        offsets[length] += 1
      }
    }

    func decode(_ reader: inout BitReader) throws -> Int {
      var code = 0
      var first = 0
      var index = 0
      for length in 1..<16 {
        code |= try reader.bits(1)
        let count = counts[length]
        if code - first < count { return symbols[index + code - first] }
        index += count
        first = (first + count) << 1
        code <<= 1
      }
      throw Failure(description: "invalid Huffman code in the deflate stream")
    }
  }

  private static let lengthBase = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
  ]
  private static let lengthExtra = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  private static let distanceBase = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
    6145, 8193, 12289, 16385, 24577,
  ]
  private static let distanceExtra = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
  ]

  /// Decompresses a raw deflate stream; `expectedSize` pre-sizes the output.
  static func decompress(_ data: Data, expectedSize: Int) throws -> Data {
    var output = [UInt8]()
    output.reserveCapacity(expectedSize)
    try data.withUnsafeBytes { raw in
      var reader = BitReader(bytes: raw)
      var last = false
      while !last {
        last = try reader.bits(1) == 1
        switch try reader.bits(2) {
        case 0:
          reader.alignToByte()
          guard reader.position + 4 <= raw.count else { throw Failure(description: "a stored block header is cut off") }
          let length = Int(raw[reader.position]) | Int(raw[reader.position + 1]) << 8
          reader.position += 4
          guard reader.position + length <= raw.count else { throw Failure(description: "a stored block is cut off") }
          output.append(contentsOf: raw[reader.position..<(reader.position + length)])
          reader.position += length
        case 1:
          try inflateBlock(&reader, &output, literals: fixedLiterals, distances: fixedDistances)
        case 2:
          let (literals, distances) = try dynamicTables(&reader)
          try inflateBlock(&reader, &output, literals: literals, distances: distances)
        default:
          throw Failure(description: "invalid deflate block type 3")
        }
      }
    }
    return Data(output)
  }

  private static let fixedLiterals: Huffman = {
    var lengths = [Int](repeating: 8, count: 288)
    for symbol in 144..<256 { lengths[symbol] = 9 }
    for symbol in 256..<280 { lengths[symbol] = 7 }
    return Huffman(lengths: lengths)
  }()
  private static let fixedDistances = Huffman(lengths: [Int](repeating: 5, count: 30))

  private static func dynamicTables(_ reader: inout BitReader) throws -> (Huffman, Huffman) {
    let literalCount = try reader.bits(5) + 257
    let distanceCount = try reader.bits(5) + 1
    let codeCount = try reader.bits(4) + 4
    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    var codeLengths = [Int](repeating: 0, count: 19)
    for index in 0..<codeCount { codeLengths[order[index]] = try reader.bits(3) }
    let codeTable = Huffman(lengths: codeLengths)
    var lengths: [Int] = []
    while lengths.count < literalCount + distanceCount {
      let symbol = try codeTable.decode(&reader)
      switch symbol {
      case 0..<16: lengths.append(symbol)
      case 16:
        guard let previous = lengths.last else { throw Failure(description: "a repeat code has nothing to repeat") }
        lengths += [Int](repeating: previous, count: 3 + (try reader.bits(2)))
      case 17: lengths += [Int](repeating: 0, count: 3 + (try reader.bits(3)))
      default: lengths += [Int](repeating: 0, count: 11 + (try reader.bits(7)))
      }
    }
    guard lengths.count == literalCount + distanceCount else { throw Failure(description: "code lengths overflow") }
    return (Huffman(lengths: Array(lengths[0..<literalCount])), Huffman(lengths: Array(lengths[literalCount...])))
  }

  private static func inflateBlock(
    _ reader: inout BitReader, _ output: inout [UInt8], literals: Huffman, distances: Huffman
  ) throws {
    while true {
      let symbol = try literals.decode(&reader)
      if symbol < 256 {
        output.append(UInt8(symbol))
      } else if symbol == 256 {
        return
      } else {
        let lengthIndex = symbol - 257
        guard lengthIndex < lengthBase.count else { throw Failure(description: "invalid length symbol \(symbol)") }
        let length = lengthBase[lengthIndex] + (try reader.bits(lengthExtra[lengthIndex]))
        let distanceSymbol = try distances.decode(&reader)
        guard distanceSymbol < distanceBase.count else {
          throw Failure(description: "invalid distance symbol \(distanceSymbol)")
        }
        let distance = distanceBase[distanceSymbol] + (try reader.bits(distanceExtra[distanceSymbol]))
        guard distance <= output.count else { throw Failure(description: "a back-reference points before the start") }
        let start = output.count - distance
        for offset in 0..<length { output.append(output[start + offset]) }
      }
    }
  }
}
