import Foundation

/// CRC-32 (IEEE 802.3, as ZIP uses), eight bytes per step: `tables[k][b]` is the CRC of byte `b`
/// followed by `k` zero bytes, so the eight table look-ups of one 64-bit word are independent.
enum CRC32 {
  private static let tables: [UInt32] = {
    var tables = [UInt32](repeating: 0, count: 8 * 256)
    for index in 0..<256 {
      var value = UInt32(index)
      for _ in 0..<8 { value = value & 1 == 1 ? 0xedb8_8320 ^ (value >> 1) : value >> 1 }
      tables[index] = value
    }
    for slice in 1..<8 {
      for index in 0..<256 {
        let previous = tables[(slice - 1) * 256 + index]
        tables[slice * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xff)]
      }
    }
    return tables
  }()

  static func checksum(_ data: Data) -> UInt32 {
    data.withUnsafeBytes { checksum($0) }
  }

  static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    tables.withUnsafeBufferPointer { table in
      var crc: UInt32 = 0xffff_ffff
      var position = 0
      @inline(__always) func look(_ slice: Int, _ byte: UInt32) -> UInt32 { table[slice << 8 | Int(byte & 0xff)] }
      while position + 8 <= bytes.count {
        let low = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)) ^ crc
        let high = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self))
        crc =
          look(7, low) ^ look(6, low >> 8) ^ look(5, low >> 16) ^ look(4, low >> 24)
          ^ look(3, high) ^ look(2, high >> 8) ^ look(1, high >> 16) ^ look(0, high >> 24)
        position += 8
      }
      while position < bytes.count {
        crc = look(0, crc ^ UInt32(bytes[position])) ^ (crc >> 8)
        position += 1
      }
      return crc ^ 0xffff_ffff
    }
  }
}
