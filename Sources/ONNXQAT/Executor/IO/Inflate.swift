import Foundation

/// A DEFLATE (RFC 1951) decoder, for `.npz` archives written with `numpy.savez_compressed`.
/// Stored, fixed-Huffman and dynamic-Huffman blocks; errors on malformed streams instead of
/// trapping.
///
/// Bits are read from a 64-bit buffer refilled a word at a time. Each Huffman code of at most
/// `Huffman.fastBits` bits is decoded with one table look-up on the next bits of the stream;
/// longer codes (rare: only in large alphabets with skewed frequencies) are decoded bit by bit in
/// canonical order. The output goes straight into a buffer of the size the archive's directory
/// states, and a stream that would write past it is refused.
enum Inflate {
  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  /// The bits of a byte buffer, least significant bit of each byte first.
  private struct BitReader {
    let bytes: UnsafeRawBufferPointer
    /// The next byte not yet in `buffer`.
    var position = 0
    /// Unconsumed bits in the low `available` bits; bits above them may hold copies of the next
    /// bytes (the word-at-a-time refill puts them there) and are never read as valid.
    var buffer: UInt64 = 0
    var available = 0

    /// Tops `buffer` up to at least 56 bits, or with every byte left.
    @inline(__always)
    mutating func refill() {
      if position + 8 <= bytes.count {
        buffer |= UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self)) << available
        position += (63 - available) >> 3
        available |= 56
      } else {
        while available <= 56 && position < bytes.count {
          buffer |= UInt64(bytes[position]) << available
          position += 1
          available += 8
        }
      }
    }

    @inline(__always)
    mutating func consume(_ count: Int) {
      buffer >>= UInt64(count)
      available -= count
    }

    /// The next `count` bits (at most 32) as an integer, first bit least significant.
    @inline(__always)
    mutating func bits(_ count: Int) throws -> Int {
      if available < count {
        refill()
        guard available >= count else { throw Failure(description: "the deflate stream ends early") }
      }
      let value = Int(truncatingIfNeeded: buffer & ((1 << UInt64(count)) - 1))
      consume(count)
      return value
    }

    /// Drops the bits up to the next byte boundary and rewinds `position` to the first byte not
    /// consumed, so stored blocks can be read as bytes.
    mutating func alignToByte() {
      consume(available & 7)
      position -= available >> 3
      buffer = 0
      available = 0
    }
  }

  /// A canonical Huffman code: a look-up table indexed by the next `fastBits` bits of the stream
  /// (entry = symbol << 4 | code length, 0 when the code is longer or absent), and the symbols in
  /// code order with the count per length, for the bit-by-bit decoding of longer codes.
  private struct Huffman {
    static let fastBits = 10
    private var fast = [UInt16](repeating: 0, count: 1 << fastBits)
    private var counts = [Int](repeating: 0, count: 16)
    private var symbols: [Int] = []

    /// The code for `lengths[symbol]` (0 = symbol unused, at most 15), refusing over-subscribed
    /// lengths (more codes of some length than the shorter ones leave room for).
    static func checked(_ lengths: [Int]) throws -> Huffman {
      var counts = [Int](repeating: 0, count: 16)
      for length in lengths where length != 0 { counts[length] += 1 }
      var left = 1
      for length in 1..<16 {
        left = left << 1 - counts[length]
        guard left >= 0 else { throw Failure(description: "over-subscribed Huffman code lengths") }
      }
      return Huffman(lengths: lengths)
    }

    /// The code for `lengths[symbol]` (0 = symbol unused, at most 15). Over-subscribed lengths
    /// give a table that decodes some symbols wrongly but never reads or writes out of bounds.
    init(lengths: [Int]) {
      for length in lengths { counts[length] += 1 }
      counts[0] = 0
      var offsets = [Int](repeating: 0, count: 16)
      var nextCode = [Int](repeating: 0, count: 16)
      for length in 1..<16 {
        offsets[length] = offsets[length - 1] + counts[length - 1]
        nextCode[length] = (nextCode[length - 1] + counts[length - 1]) << 1
      }
      symbols = [Int](repeating: 0, count: lengths.count)
      for (symbol, length) in lengths.enumerated() where length != 0 {
        symbols[offsets[length]] = symbol
        offsets[length] += 1
        let code = nextCode[length]
        nextCode[length] += 1
        guard length <= Self.fastBits else { continue }
        var reversed = 0
        for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
        let entry = UInt16(symbol << 4 | length)
        for index in stride(from: reversed, to: 1 << Self.fastBits, by: 1 << length) { fast[index] = entry }
      }
    }

    @inline(__always)
    func decode(_ reader: inout BitReader) throws -> Int {
      if reader.available < Self.fastBits { reader.refill() }
      let entry = Int(fast[Int(truncatingIfNeeded: reader.buffer) & (1 << Self.fastBits - 1)])
      let length = entry & 15
      if length != 0 && length <= reader.available {
        reader.consume(length)
        return entry >> 4
      }
      return try decodeBitByBit(&reader)
    }

    private func decodeBitByBit(_ reader: inout BitReader) throws -> Int {
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

  /// The bytes written so far into a buffer of fixed capacity.
  private struct Output {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    var count = 0

    @inline(__always)
    mutating func append(_ byte: UInt8) throws {
      guard count < capacity else { throw Failure(description: "the stream inflates to more than \(capacity) bytes") }
      base[count] = byte
      count += 1
    }

    mutating func append(_ source: UnsafeRawBufferPointer) throws {
      guard source.count <= capacity - count else {
        throw Failure(description: "the stream inflates to more than \(capacity) bytes")
      }
      if let from = source.baseAddress {
        UnsafeMutableRawPointer(base + count).copyMemory(from: from, byteCount: source.count)
      }
      count += source.count
    }

    /// Copies `length` bytes starting `distance` back; the ranges may overlap (a run).
    @inline(__always)
    mutating func repeatBack(distance: Int, length: Int) throws {
      guard distance <= count else { throw Failure(description: "a back-reference points before the start") }
      guard length <= capacity - count else {
        throw Failure(description: "the stream inflates to more than \(capacity) bytes")
      }
      let from = base + count - distance
      if distance >= length {
        (base + count).update(from: from, count: length)
      } else {
        for offset in 0..<length { base[count + offset] = from[offset] }
      }
      count += length
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

  /// Decompresses a raw deflate stream that inflates to at most `expectedSize` bytes.
  static func decompress(_ data: Data, expectedSize: Int) throws -> Data {
    try data.withUnsafeBytes { try decompress($0, expectedSize: expectedSize) }
  }

  /// Decompresses a raw deflate stream that inflates to at most `expectedSize` bytes.
  static func decompress(_ raw: UnsafeRawBufferPointer, expectedSize: Int) throws -> Data {
    let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(expectedSize, 1))
    var output = Output(base: storage, capacity: expectedSize)
    do {
      var reader = BitReader(bytes: raw)
      var last = false
      while !last {
        last = try reader.bits(1) == 1
        switch try reader.bits(2) {
        case 0:
          reader.alignToByte()
          guard reader.position + 4 <= raw.count else { throw Failure(description: "a stored block header is cut off") }
          let length = Int(raw[reader.position]) | Int(raw[reader.position + 1]) << 8
          let complement = Int(raw[reader.position + 2]) | Int(raw[reader.position + 3]) << 8
          guard length == complement ^ 0xffff else { throw Failure(description: "a stored block's length check fails") }
          reader.position += 4
          guard reader.position + length <= raw.count else { throw Failure(description: "a stored block is cut off") }
          try output.append(UnsafeRawBufferPointer(rebasing: raw[reader.position..<(reader.position + length)]))
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
    } catch {
      storage.deallocate()
      throw error
    }
    return Data(
      bytesNoCopy: UnsafeMutableRawPointer(storage), count: output.count,
      deallocator: .custom { pointer, _ in pointer.deallocate() })
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
    guard literalCount <= 286, distanceCount <= 30 else {
      throw Failure(description: "a dynamic block declares too many length or distance codes")
    }
    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    var codeLengths = [Int](repeating: 0, count: 19)
    for index in 0..<codeCount { codeLengths[order[index]] = try reader.bits(3) }
    let codeTable = try Huffman.checked(codeLengths)
    var lengths: [Int] = []
    lengths.reserveCapacity(literalCount + distanceCount + 138)
    while lengths.count < literalCount + distanceCount {
      let symbol = try codeTable.decode(&reader)
      switch symbol {
      case 0..<16: lengths.append(symbol)
      case 16:
        guard let previous = lengths.last else { throw Failure(description: "a repeat code has nothing to repeat") }
        lengths += repeatElement(previous, count: 3 + (try reader.bits(2)))
      case 17: lengths += repeatElement(0, count: 3 + (try reader.bits(3)))
      default: lengths += repeatElement(0, count: 11 + (try reader.bits(7)))
      }
    }
    guard lengths.count == literalCount + distanceCount else { throw Failure(description: "code lengths overflow") }
    return (
      try Huffman.checked(Array(lengths[0..<literalCount])), try Huffman.checked(Array(lengths[literalCount...]))
    )
  }

  private static func inflateBlock(
    _ reader: inout BitReader, _ output: inout Output, literals: Huffman, distances: Huffman
  ) throws {
    while true {
      let symbol = try literals.decode(&reader)
      if symbol < 256 {
        try output.append(UInt8(truncatingIfNeeded: symbol))
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
        try output.repeatBack(distance: distance, length: length)
      }
    }
  }
}
