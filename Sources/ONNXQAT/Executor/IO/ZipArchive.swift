import Foundation

/// Reads the members of a ZIP archive (what `numpy.savez` and `savez_compressed` write):
/// stored or deflated members, ZIP64 sizes and offsets, CRC-32 checked.
enum ZipArchive {
  struct Member {
    let name: String
    let data: Data
  }

  static func members(_ data: Data, path: String) throws -> [Member] {
    func fail(_ reason: String) -> ONNXQATError { .badArgument("\(path): \(reason)") }
    let bytes = [UInt8](data)
    func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
    func u64(_ at: Int) -> Int { u32(at) | u32(at + 4) << 32 }
    guard bytes.count >= 22 else { throw fail("not a ZIP archive (too short)") }
    var end = -1
    for position in stride(from: bytes.count - 22, through: max(0, bytes.count - 22 - 65_535), by: -1)
    where u32(position) == 0x0605_4b50 {
      end = position
      break
    }
    guard end >= 0 else { throw fail("not a ZIP archive (no end-of-central-directory record)") }
    var count = u16(end + 10)
    var directory = u32(end + 16)
    if (count == 0xffff || directory == 0xffff_ffff) && end >= 20 && u32(end - 20) == 0x0706_4b50 {
      let record = u64(end - 20 + 8)
      guard record + 56 <= bytes.count, u32(record) == 0x0606_4b50 else { throw fail("a ZIP64 record is damaged") }
      count = u64(record + 32)
      directory = u64(record + 48)
    }
    var members: [Member] = []
    var position = directory
    for _ in 0..<count {
      guard position + 46 <= bytes.count, u32(position) == 0x0201_4b50 else {
        throw fail("the ZIP directory is damaged")
      }
      let method = u16(position + 10)
      let crc = UInt32(u32(position + 16))
      var compressed = u32(position + 20)
      var size = u32(position + 24)
      let nameLength = u16(position + 28)
      let extraLength = u16(position + 30)
      let commentLength = u16(position + 32)
      var offset = u32(position + 42)
      guard position + 46 + nameLength + extraLength <= bytes.count else { throw fail("the ZIP directory is damaged") }
      let name = String(decoding: bytes[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self)
      var extra = position + 46 + nameLength
      while extra + 4 <= position + 46 + nameLength + extraLength {
        let id = u16(extra)
        let length = u16(extra + 2)
        if id == 1 {
          var field = extra + 4
          if size == 0xffff_ffff { size = u64(field); field += 8 }
          if compressed == 0xffff_ffff { compressed = u64(field); field += 8 }
          if offset == 0xffff_ffff { offset = u64(field) }
        }
        extra += 4 + length
      }
      guard offset + 30 <= bytes.count, u32(offset) == 0x0403_4b50 else { throw fail("member '\(name)' is damaged") }
      let start = offset + 30 + u16(offset + 26) + u16(offset + 28)
      guard start + compressed <= bytes.count else { throw fail("member '\(name)' is cut off") }
      let stored = data.subdata(in: (data.startIndex + start)..<(data.startIndex + start + compressed))
      let content: Data
      switch method {
      case 0: content = stored
      case 8:
        do { content = try Inflate.decompress(stored, expectedSize: size) } catch {
          throw fail("member '\(name)': \(error)")
        }
      default: throw fail("member '\(name)' uses compression method \(method); expected stored (0) or deflate (8)")
      }
      guard content.count == size else {
        throw fail("member '\(name)' inflates to \(content.count) bytes, expected \(size)")
      }
      guard CRC32.checksum(content) == crc else {
        throw fail("member '\(name)' fails its CRC-32 check (corrupt archive)")
      }
      members.append(Member(name: name, data: content))
      position += 46 + nameLength + extraLength + commentLength
    }
    return members
  }
}

/// CRC-32 (IEEE 802.3, as ZIP uses).
enum CRC32 {
  private static let table: [UInt32] = (0..<256).map { index in
    var value = UInt32(index)
    for _ in 0..<8 { value = value & 1 == 1 ? 0xedb8_8320 ^ (value >> 1) : value >> 1 }
    return value
  }

  static func checksum(_ data: Data) -> UInt32 {
    var crc: UInt32 = 0xffff_ffff
    data.withUnsafeBytes { raw in
      for byte in raw { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
    }
    return crc ^ 0xffff_ffff
  }
}
