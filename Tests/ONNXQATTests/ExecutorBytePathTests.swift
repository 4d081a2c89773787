import Foundation
import XCTest

@testable import ONNXQAT

/// The executor's fast paths on 8-bit data equal the general loops bit for bit: MaxPool on
/// int8/uint8 without Indices (separable maxima) against the Indices path, same-shape QLinearAdd
/// against the broadcasting loop, per-tensor QuantizeLinear against the per-axis loop with equal
/// scales (halfway values, NaN, infinities, saturation included).
final class ExecutorBytePathTests: XCTestCase {
  private func run(
    _ op: String, domain: String = "", opset: Int64 = 17, _ inputs: [HostTensor?], _ attributes: [Attribute] = [],
    outputs: Int = 1, threads: Int = 1
  ) throws -> [HostTensor] {
    var options = ExecutionOptions()
    options.threads = threads
    return try SingleNodeRun.run(
      op, domain: domain, opset: opset, inputs: inputs, attributes: attributes, outputs: outputs, options: options)
  }

  private func ints(_ name: String, _ values: [Int]) -> Attribute {
    Attribute(name: name, .ints(values.map(Int64.init)))
  }
  private func int(_ name: String, _ value: Int) -> Attribute { Attribute(name: name, .int(Int64(value))) }

  func testByteMaxPoolEqualsIndicesPath() throws {
    var generator = SystemRandomNumberGenerator()
    // (height, width, kernel, stride, pad, dilation, ceil)
    let cases = [
      (112, 112, 3, 2, 1, 1, 0), (9, 7, 3, 1, 1, 1, 0), (10, 11, 2, 2, 0, 1, 1), (13, 9, 3, 2, 1, 2, 0),
      (5, 6, 5, 1, 2, 1, 0), (8, 8, 3, 3, 0, 1, 1), (1, 17, 1, 1, 0, 1, 0),
    ]
    for (h, w, k, s, p, d, ceil) in cases {
      for type in [DataType.uint8, .int8] {
        let count = 2 * 5 * h * w
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let x = HostTensor(type, shape: [2, 5, h, w], values: bytes)
        let attributes = [
          ints("kernel_shape", [k, k]), ints("strides", [s, s]), ints("pads", [p, p, p, p]),
          ints("dilations", [d, d]), int("ceil_mode", ceil),
        ]
        for threads in [1, 2] {
          let fast = try run("MaxPool", [x], attributes, threads: threads)[0]
          let general = try run("MaxPool", [x], attributes, outputs: 2, threads: threads)[0]
          XCTAssertEqual(fast.shape, general.shape)
          XCTAssertEqual(fast.values(UInt8.self), general.values(UInt8.self), "\(type.name) \(h)x\(w) k\(k) s\(s)")
        }
      }
    }
  }

  func testSameShapeQLinearAddEqualsBroadcastLoop() throws {
    var generator = SystemRandomNumberGenerator()
    for type in [DataType.uint8, .int8] {
      for (sa, sb, sc) in [(Float(0.02), Float(0.035), Float(0.05)), (0.1, 0.1, 0.0004), (0.5, 0.25, 0.75)] {
        let count = 3 * 7 * 13
        let aBytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let a = HostTensor(type, shape: [1, 3, 7, 13], values: aBytes)
        let bBytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let zero = { (value: UInt8) in HostTensor(type, shape: [], values: [value]) }
        func add(_ b: HostTensor) throws -> [UInt8] {
          try run(
            "QLinearAdd", domain: "com.microsoft",
            [a, .scalar(sa), zero(100), b, .scalar(sb), zero(7), .scalar(sc), zero(130)])[0].values(UInt8.self)
        }
        let same = try add(HostTensor(type, shape: [1, 3, 7, 13], values: bBytes))
        let broadcast = try add(HostTensor(type, shape: [3, 7, 13], values: bBytes))
        XCTAssertEqual(same, broadcast, "\(type.name) scales \(sa) \(sb) \(sc)")
      }
    }
  }

  func testPerTensorQuantizeLinearEqualsPerAxisLoop() throws {
    var generator = SystemRandomNumberGenerator()
    let scale: Float = 0.0625
    var values = (0..<(4 * 61)).map { _ in Float.random(in: -20...20, using: &generator) }
    // Halfway quotients (x / scale = n + 0.5), both signs, specials and saturation.
    let specials: [Float] = [0.03125, -0.03125, 0.09375, -0.09375, .nan, .infinity, -.infinity, 1e30, -0.0, 7.96875]
    values.replaceSubrange(0..<specials.count, with: specials)
    let x = HostTensor(.float, shape: [4, 61], values: values)
    for (type, zero) in [(DataType.uint8, UInt8(128)), (.int8, UInt8(bitPattern: -3))] {
      let perTensor = try run(
        "QuantizeLinear", opset: 21, [x, .scalar(scale), HostTensor(type, shape: [], values: [zero])])[0]
      let perAxis = try run(
        "QuantizeLinear", opset: 21,
        [
          x, HostTensor(.float, shape: [4], values: [Float](repeating: scale, count: 4)),
          HostTensor(type, shape: [4], values: [UInt8](repeating: zero, count: 4)),
        ], [int("axis", 0)])[0]
      XCTAssertEqual(perTensor.values(UInt8.self), perAxis.values(UInt8.self), type.name)
    }
  }
}
