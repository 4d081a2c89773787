import Foundation

/// Reads the members of a ZIP archive (what `numpy.savez` and `savez_compressed` write):
/// stored or deflated members, ZIP64 sizes and offsets, CRC-32 checked.
enum ZipArchive {
  struct Member {
    let name: String
    let data: Data
  }

  /// The members of the archive `data` (the bytes of the file at `path`, named in messages).
  /// Stored members share `data`'s bytes; deflated ones are inflated into their own buffers.
  static func members(_ data: Data, path: String) throws -> [Member] {
    try data.withUnsafeBytes { bytes in try members(data, bytes: bytes, path: path) }
  }

  private static func members(_ data: Data, bytes: UnsafeRawBufferPointer, path: String) throws -> [Member] {
    func fail(_ reason: String) -> ONNXQATError { .badArgument("\(path): \(reason)") }
    func u16(_ at: Int) -> Int { Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))) }
    func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
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
      guard record >= 0, record <= bytes.count - 56, u32(record) == 0x0606_4b50 else {
        throw fail("a ZIP64 record is damaged")
      }
      count = u64(record + 32)
      directory = u64(record + 48)
    }
    var members: [Member] = []
    var position = directory
    for _ in 0..<max(count, 0) {
      guard position >= 0, position <= bytes.count - 46, u32(position) == 0x0201_4b50 else {
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
      let name = String(
        decoding: UnsafeRawBufferPointer(rebasing: bytes[(position + 46)..<(position + 46 + nameLength)]),
        as: UTF8.self)
      var extra = position + 46 + nameLength
      let extraEnd = position + 46 + nameLength + extraLength
      while extra + 4 <= extraEnd {
        let id = u16(extra)
        let fieldEnd = extra + 4 + u16(extra + 2)
        guard fieldEnd <= extraEnd else { throw fail("the ZIP directory entry of '\(name)' is damaged") }
        if id == 1 {
          var field = extra + 4
          func next() throws -> Int {
            guard field + 8 <= fieldEnd else { throw fail("the ZIP64 field of '\(name)' is cut off") }
            defer { field += 8 }
            return u64(field)
          }
          if size == 0xffff_ffff { size = try next() }
          if compressed == 0xffff_ffff { compressed = try next() }
          if offset == 0xffff_ffff { offset = try next() }
        }
        extra = fieldEnd
      }
      guard offset >= 0, offset <= bytes.count - 30, u32(offset) == 0x0403_4b50 else {
        throw fail("member '\(name)' is damaged")
      }
      let start = offset + 30 + u16(offset + 26) + u16(offset + 28)
      guard compressed >= 0, size >= 0, start <= bytes.count, compressed <= bytes.count - start else {
        throw fail("member '\(name)' is cut off")
      }
      let stored = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + compressed)])
      let content: Data
      switch method {
      case 0: content = data[(data.startIndex + start)..<(data.startIndex + start + compressed)]
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
