import Foundation
import XCTest

@testable import ONNXQAT

/// The DEFLATE decoder and CRC-32 of `.npz` reading, against zlib: every stream zlib writes
/// (levels 0, 1, 9; default, fixed-Huffman, Huffman-only and run-length strategies; stored,
/// fixed and dynamic blocks, codes longer than the look-up table, overlapping back-references)
/// inflates to exactly the original bytes, whose CRC-32 equals zlib's. Damaged streams throw
/// instead of trapping or writing past the stated size.
final class InflateTests: XCTestCase {
  private struct Case {
    let name: String
    let size: Int
    let crc: UInt32
    let stream: Data
    let original: Data
  }

  private func cases() throws -> [Case] {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let result = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/make_deflate_streams.py", folder])
    XCTAssertEqual(result.status, 0, result.stderr)
    let listing = try String(contentsOfFile: folder + "/cases.txt", encoding: .utf8)
    return try listing.split(separator: "\n").map { line in
      let fields = line.split(separator: " ").map(String.init)
      let size = try XCTUnwrap(Int(fields[1]))
      let crc = try XCTUnwrap(UInt32(fields[2]))
      return Case(
        name: fields[0], size: size, crc: crc,
        stream: try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(fields[0]).deflate")),
        original: try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(fields[0]).raw")))
    }
  }

  func testInflatesEveryZlibStreamExactly() throws {
    let all = try cases()
    XCTAssertEqual(all.count, 63)
    for item in all {
      let inflated = try Inflate.decompress(item.stream, expectedSize: item.size)
      XCTAssertEqual(inflated.count, item.size, item.name)
      XCTAssertTrue(inflated == item.original, "\(item.name): inflated bytes differ from zlib's input")
      XCTAssertEqual(CRC32.checksum(inflated), item.crc, "\(item.name): CRC-32 differs from zlib.crc32")
    }
  }

  func testCRC32OfEveryLengthAndAlignment() throws {
    // A bytewise reference (the definition, one bit at a time) against the eight-bytes-per-step
    // tables, for lengths 0-40 starting at offsets 0-7, so every tail length is exercised.
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<48).map { _ in UInt8.random(in: 0...255, using: &generator) }
    func reference(_ slice: ArraySlice<UInt8>) -> UInt32 {
      var crc: UInt32 = 0xffff_ffff
      for byte in slice {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? 0xedb8_8320 ^ (crc >> 1) : crc >> 1 }
      }
      return crc ^ 0xffff_ffff
    }
    XCTAssertEqual(CRC32.checksum(Data("123456789".utf8)), 0xcbf4_3926, "the standard check value")
    for offset in 0..<8 {
      for length in 0...40 {
        let slice = bytes[offset..<(offset + length)]
        XCTAssertEqual(CRC32.checksum(Data(slice)), reference(slice), "offset \(offset), length \(length)")
      }
    }
  }

  func testDamagedStreamsThrow() throws {
    let all = try cases()
    let picked = try XCTUnwrap(all.first { $0.name == "text-9-default" })
    let stream = [UInt8](picked.stream)
    // Every truncation of a dynamic-Huffman stream.
    for cut in stride(from: 0, to: stream.count, by: 7) {
      XCTAssertThrowsError(
        try Inflate.decompress(Data(stream[0..<cut]), expectedSize: picked.size), "cut at \(cut)")
    }
    // A size smaller than the stream inflates to.
    XCTAssertThrowsError(try Inflate.decompress(picked.stream, expectedSize: picked.size - 1)) { error in
      XCTAssertTrue("\(error)".contains("more than"), "\(error)")
    }
    // Flipped bits: the decoder either throws or returns at most the stated size (the archive's
    // CRC-32 then rejects wrong bytes); it never traps.
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<300 {
      var damaged = stream
      let index = Int.random(in: 0..<damaged.count, using: &generator)
      damaged[index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
      if let inflated = try? Inflate.decompress(Data(damaged), expectedSize: picked.size) {
        XCTAssertLessThanOrEqual(inflated.count, picked.size)
      }
    }
    // A stored block whose length and its complement disagree; block type 3.
    XCTAssertThrowsError(try Inflate.decompress(Data([0x01, 0x05, 0x00, 0xfa, 0xf0, 1, 2, 3, 4, 5]), expectedSize: 5))
    XCTAssertThrowsError(try Inflate.decompress(Data([0x07]), expectedSize: 5)) { error in
      XCTAssertTrue("\(error)".contains("block type 3"), "\(error)")
    }
  }
}
