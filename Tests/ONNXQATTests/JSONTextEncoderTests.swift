import Foundation
import XCTest

@testable import ONNXQAT

/// `JSONTextEncoder` writes exactly the bytes Foundation's `JSONEncoder` writes with the
/// options `JSONReport` promises (bit-exact comparison of the two texts): on every report the
/// verbs produce from a real fixture, and on values chosen for the corners of the format.
final class JSONTextEncoderTests: XCTestCase {
  /// Every report kind, from the digits fixture taken through fold, insert, lower and verify.
  func testReportsMatchFoundation() throws {
    let session = ONNXQATSession()
    let path = TestSupport.fixtures + "/digits/digits_cnn.onnx"
    let summary = ModelSummary(try session.load(path: path))
    let folded = try session.load(path: path)
    let fold = try session.fold(folded)
    let model = try session.load(path: path)
    let insert = try session.insert(model, options: ["calib": .string("synthetic:3")])
    let qdq = try session.load(bytes: try session.serialize(model))
    let integer = try session.load(bytes: try session.serialize(model))
    let lower = try session.lower(integer)
    let verify = try session.verify(qdq: qdq, integer: integer, options: ["calib": .string("synthetic:2")])
    let output = try XCTUnwrap(Interpreter(model: qdq).run(try synthetic(qdq)).first)
    let run = RunReport(
      model: path, requantization: "float", threads: 2,
      samples: [
        .init(source: "a/b", milliseconds: 1.25, outputs: [.init(name: output.key, tensor: output.value, file: nil)])
      ]
    )
    let reports: [(String, any JSONReport)] = [
      ("inspect", summary), ("fold", fold), ("insert", insert), ("lower", lower), ("verify", verify), ("run", run),
    ]
    for (name, report) in reports {
      let ours = try report.jsonData()
      XCTAssertEqual(
        String(decoding: ours, as: UTF8.self), String(decoding: try report.foundationJSONData(), as: UTF8.self), name)
      XCTAssertGreaterThan(ours.count, 100, name)
    }
    XCTAssertFalse(insert.tensors.isEmpty)
  }

  /// Numbers at the edges of Swift's plain and exponent notations, non-finite values, signed
  /// zeros, strings with every control character, keys whose byte order differs from a
  /// case-insensitive or numeric order, empty and nested containers, nil optionals and
  /// explicit nulls, and a super encoder.
  func testCornersMatchFoundation() throws {
    var generator = SystemRandomNumberGenerator()
    var floats: [Float] = [
      0, -0, 1, 0.1, 1e-7, 1e-45, 3.4e38, 16_777_216, 16_777_217, 1e10, 12_345_678, .infinity, -.infinity, .nan,
    ]
    var doubles: [Double] = [0, -0, 1e15, 1e16, 9_007_199_254_740_992, 5e-324, 0.30000000000000004, 1e-5, 1e-4, 1e300]
    for _ in 0..<2_000 {
      floats.append(Float(bitPattern: generator.next()))
      doubles.append(Double(bitPattern: generator.next()))
    }
    var control = ""
    for code in 0..<0x20 { control.unicodeScalars.append(Unicode.Scalar(UInt8(code))) }
    control += "\u{7f}\u{2028}/\"\\é😀"
    let corners = Corners(
      floats: floats, doubles: doubles, text: control,
      keys: ["rule10": 1, "rule9": 2, "B": 3, "a": 4, "_x": 5, "Ab": 6, "aB": 7, "a b": 8, "ä": 9, "": 10],
      empty: [], emptyObject: [:], nested: [[], [1, 2], []], missing: nil, small: [-128, 127], wide: [.min, .max],
      unsigned: [0, .max], flags: [true, false], super: 7)
    let ours = try JSONTextEncoder.encode(corners)
    XCTAssertEqual(
      String(decoding: ours, as: UTF8.self), String(decoding: try corners.foundationJSONData(), as: UTF8.self))
  }

  private func synthetic(_ model: Model) throws -> [String: HostTensor] {
    var source = try CalibrationInput.spec("synthetic:1").makeSource(for: model)
    return try XCTUnwrap(try source.nextSample())
  }
}

/// A value touching every corner of the JSON text format.
private struct Corners: JSONReport {
  var floats: [Float]
  var doubles: [Double]
  var text: String
  var keys: [String: Int]
  var empty: [Int]
  var emptyObject: [String: Int]
  var nested: [[Int]]
  var missing: Int?
  var small: [Int8]
  var wide: [Int64]
  var unsigned: [UInt64]
  var flags: [Bool]
  var `super`: Int

  enum CodingKeys: String, CodingKey {
    case floats, doubles, text, keys, empty, emptyObject, nested, missing, small, wide, unsigned, flags, `super`, null,
      list
  }

  func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(floats, forKey: .floats)
    try container.encode(doubles, forKey: .doubles)
    try container.encode(text, forKey: .text)
    try container.encode(keys, forKey: .keys)
    try container.encode(empty, forKey: .empty)
    try container.encode(emptyObject, forKey: .emptyObject)
    try container.encode(nested, forKey: .nested)
    try container.encodeIfPresent(missing, forKey: .missing)
    try container.encodeNil(forKey: .null)
    try container.encode(small, forKey: .small)
    try container.encode(wide, forKey: .wide)
    try container.encode(unsigned, forKey: .unsigned)
    try container.encode(flags, forKey: .flags)
    var inner = container.superEncoder(forKey: .super).container(keyedBy: CodingKeys.self)
    try inner.encode(`super`, forKey: .missing)
    var list = container.nestedUnkeyedContainer(forKey: .list)
    try list.encode(Float(2.5))
  }
}
