import Foundation
import XCTest

@testable import ONNXQAT

/// Elementwise kernels in the forms ONNX's backend cases do not cover: opset 6-12 attribute
/// forms, integer types, float8 rounding edges, error messages.
final class ElementwiseKernelTests: XCTestCase {
  /// Runs one node with `inputs` (nil: omitted optional input) at `opset`; returns its outputs.
  func run(
    _ op: String, opset: Int, _ inputs: [HostTensor?], attributes: [Attribute] = [], outputs: Int = 1
  ) throws -> [HostTensor] {
    try SingleNodeRun.run(op, opset: Int64(opset), inputs: inputs, attributes: attributes, outputs: outputs)
  }

  func floats(_ values: [Float], _ shape: [Int]? = nil) -> HostTensor {
    HostTensor(.float, shape: shape ?? [values.count], values: values)
  }

  func testClipInt8Inputs() throws {
    let x = HostTensor(.int8, shape: [4], values: [Int8(-100), -1, 1, 100])
    let high = HostTensor(.int8, shape: [], values: [Int8(0)])
    let y = try run("Clip", opset: 13, [x, nil, high])[0]
    XCTAssertEqual(y.values(Int8.self), [-100, -1, 0, 0])
    let low = HostTensor(.int8, shape: [], values: [Int8(-5)])
    XCTAssertEqual(try run("Clip", opset: 13, [x, low])[0].values(Int8.self), [-5, -1, 1, 100])
  }

  func testClipOpset6Attributes() throws {
    let x = floats([-3, -0.5, 0.5, 3, .nan])
    let y = try run("Clip", opset: 6, [x], attributes: [.float("min", -1), .float("max", 1)])[0]
    let values = y.values(Float.self)
    XCTAssertEqual(Array(values.prefix(4)), [-1, -0.5, 0.5, 1])
    XCTAssertTrue(values[4].isNaN)
    // Only max: no lower bound.
    let high = try run("Clip", opset: 6, [x], attributes: [.float("max", 0)])[0]
    XCTAssertEqual(Array(high.values(Float.self).prefix(4)), [-3, -0.5, 0, 0])
  }

  func testClipMinAboveMaxGivesMax() throws {
    let x = floats([-2, 0, 2])
    let y = try run("Clip", opset: 13, [x, .scalar(Float(1)), .scalar(Float(-1))])[0]
    XCTAssertEqual(y.values(Float.self), [-1, -1, -1])
  }

  func testSoftmaxOpset11FlattensAtAxis() throws {
    // Shape [2, 2, 2], axis 1: each of the 2 rows of 4 elements sums to 1.
    let x = floats([0, 1, 2, 3, 4, 5, 6, 8], [2, 2, 2])
    let y = try run("Softmax", opset: 11, [x])[0].values(Float.self)
    XCTAssertEqual(Double(y[0...3].reduce(0, +)), 1, accuracy: 1e-6)
    XCTAssertEqual(Double(y[4...7].reduce(0, +)), 1, accuracy: 1e-6)
    let e: [Double] = [0, 1, 2, 3].map { Foundation.exp(Double($0) - 3) }
    XCTAssertEqual(Double(y[1]), e[1] / e.reduce(0, +), accuracy: 1e-6)
    // Opset 13, same input and default axis -1: pairs sum to 1.
    let z = try run("Softmax", opset: 13, [x])[0].values(Float.self)
    XCTAssertEqual(Double(z[6] + z[7]), 1, accuracy: 1e-6)
    XCTAssertEqual(Double(z[7]), 1 / (1 + Foundation.exp(-2)), accuracy: 1e-6)
    // Opset 11 default axis 1 on [2, 3] is plain row softmax; LogSoftmax agrees with log(Softmax).
    let l = try run("LogSoftmax", opset: 11, [x], attributes: [.int("axis", 2)])[0].values(Float.self)
    XCTAssertEqual(Double(l[7]), Foundation.log(1 / (1 + Foundation.exp(-2))), accuracy: 1e-6)
  }

  func testHardmaxOpset11FlattensAtAxis() throws {
    let x = floats([0, 5, 1, 5, 9, 2, 3, 4], [2, 2, 2])
    XCTAssertEqual(try run("Hardmax", opset: 11, [x])[0].values(Float.self), [0, 1, 0, 0, 1, 0, 0, 0])
    XCTAssertEqual(try run("Hardmax", opset: 13, [x])[0].values(Float.self), [0, 1, 0, 1, 1, 0, 0, 1])
  }

  func testSoftmaxAxisOutOfRange() throws {
    XCTAssertThrowsError(try run("Softmax", opset: 13, [floats([1, 2])], attributes: [.int("axis", 2)])) { error in
      XCTAssertTrue("\(error)".contains("axis 2 is out of range for rank 1"), "\(error)")
    }
  }

  func testIntegerDivisionTruncatesTowardZero() throws {
    let a = HostTensor(.int32, shape: [6], values: [Int32(7), -7, 7, -7, Int32.min, 0])
    let b = HostTensor(.int32, shape: [6], values: [Int32(2), 2, -2, -2, -1, 5])
    XCTAssertEqual(try run("Div", opset: 14, [a, b])[0].values(Int32.self), [3, -3, -3, 3, Int32.min, 0])
    let c = HostTensor(.int8, shape: [2], values: [Int8(-128), 127])
    XCTAssertEqual(
      try run("Div", opset: 14, [c, HostTensor(.int8, shape: [], values: [Int8(-3)])])[0].values(Int8.self), [42, -42])
    let zero = HostTensor(.int64, shape: [1], values: [Int64(0)])
    XCTAssertThrowsError(try run("Div", opset: 14, [.scalar(Int64(1)), zero])) { error in
      XCTAssertTrue("\(error)".contains("division by zero"), "\(error)")
    }
  }

  func testIntegerArithmeticWrapsAndBroadcasts() throws {
    let a = HostTensor(.uint8, shape: [2, 1], values: [UInt8(250), 3])
    let b = HostTensor(.uint8, shape: [3], values: [UInt8(1), 10, 255])
    XCTAssertEqual(try run("Add", opset: 14, [a, b])[0].values(UInt8.self), [251, 4, 249, 4, 13, 2])
    XCTAssertEqual(try run("Sub", opset: 14, [a, b])[0].shape, [2, 3])
    let big = HostTensor(.uint64, shape: [1], values: [UInt64.max])
    XCTAssertEqual(
      try run("Max", opset: 13, [big, HostTensor(.uint64, shape: [1], values: [UInt64(1)])])[0].values(UInt64.self),
      [UInt64.max])
  }

  func testModSignFollowsDivisorOrDividend() throws {
    let a = HostTensor(.int32, shape: [4], values: [Int32(5), -5, 5, -5])
    let b = HostTensor(.int32, shape: [4], values: [Int32(3), 3, -3, -3])
    XCTAssertEqual(try run("Mod", opset: 13, [a, b])[0].values(Int32.self), [2, 1, -1, -2])
    XCTAssertEqual(
      try run("Mod", opset: 13, [a, b], attributes: [.int("fmod", 1)])[0].values(Int32.self), [2, -2, 2, -2])
    let y = try run("Mod", opset: 13, [floats([5.5, -5.5]), floats([2, 2])], attributes: [.int("fmod", 1)])[0]
    XCTAssertEqual(y.values(Float.self), [1.5, -1.5])
  }

  func testPowIntegerBaseAndExponent() throws {
    let base = HostTensor(.int64, shape: [3], values: [Int64(2), -3, 10])
    let exponent = HostTensor(.int32, shape: [3], values: [Int32(10), 3, 0])
    XCTAssertEqual(try run("Pow", opset: 15, [base, exponent])[0].values(Int64.self), [1024, -27, 1])
    let y = try run("Pow", opset: 15, [floats([4, 2]), HostTensor(.int64, shape: [], values: [Int64(-1)])])[0]
    XCTAssertEqual(y.values(Float.self), [0.25, 0.5])
  }

  func testPReluSlopeMustBroadcastToX() throws {
    let y = try run("PRelu", opset: 16, [floats([-2, 2, -4, 4], [2, 2]), floats([0.5, 0.25])])[0]
    XCTAssertEqual(y.values(Float.self), [-1, 2, -2, 4])
    XCTAssertThrowsError(try run("PRelu", opset: 16, [floats([-2]), floats([0.5, 0.25])])) { error in
      XCTAssertTrue("\(error)".contains("expected a shape that broadcasts to x's [1]"), "\(error)")
    }
  }

  func testPowConstantExponentsMatchPow() throws {
    let values: [Float] = [-.infinity, -2, -0.0, 0, 0.3, 1.7, 3, .infinity, .nan]
    for e: Float in [1, 2, 0.5, -1, 2.5] {
      let y = try run("Pow", opset: 15, [floats(values), .scalar(e)])[0].values(Float.self)
      for (index, x) in values.enumerated() {
        let expected = Foundation.pow(x, e)
        XCTAssertTrue(
          y[index] == expected && y[index].sign == expected.sign || y[index].isNaN && expected.isNaN,
          "pow(\(x), \(e)) = \(y[index]); expected \(expected)")
      }
    }
  }

  func testReduceLastAxisPartialsAndNaN() throws {
    let x = floats([1, 2, 3, 4, 5, 6, 7, .nan, 9, 10, 11, 12, 13, 14], [2, 7])
    XCTAssertEqual(try run("ReduceSum", opset: 11, [x], attributes: [.ints("axes", [1])])[0].doubles()[0], 28)
    let max = try run("ReduceMax", opset: 11, [x], attributes: [.ints("axes", [1])])[0].values(Float.self)
    XCTAssertEqual(max[0], 7)
    XCTAssertTrue(max[1].isNaN)
    XCTAssertEqual(try run("ReduceProd", opset: 11, [x], attributes: [.ints("axes", [1])])[0].doubles()[0], 5040)
  }

  /// The block loops of `ElementwiseBroadcast` agree with the general walk (Greater and Max on
  /// int32 against the same computed element by element).
  func testBlockBroadcastMatchesGeneralWalk() throws {
    let shapes: [([Int], [Int])] = [
      ([2, 3, 4], [4]), ([4], [2, 3, 4]), ([2, 3, 4], [1, 3, 1]), ([3, 1], [2, 3, 4]), ([2, 3, 4], [2, 1, 4]),
      ([2, 1, 4], [1, 3, 1]), ([2, 3, 4], [3, 4]), ([0, 3], [3]),
    ]
    for (sa, sb) in shapes {
      let a = HostTensor(.int32, shape: sa, values: (0..<sa.reduce(1, *)).map { Int32(($0 * 7) % 11) })
      let b = HostTensor(.int32, shape: sb, values: (0..<sb.reduce(1, *)).map { Int32(($0 * 5) % 9) })
      let shape = try Broadcast.shape([sa, sb])
      var greater: [UInt8] = []
      var maximum: [Int32] = []
      let va = a.values(Int32.self)
      let vb = b.values(Int32.self)
      Broadcast.forEach(shape, operands: [sa, sb]) { _, offsets in
        greater.append(va[offsets[0]] > vb[offsets[1]] ? 1 : 0)
        maximum.append(Swift.max(va[offsets[0]], vb[offsets[1]]))
      }
      let g = try run("Greater", opset: 13, [a, b])[0]
      XCTAssertEqual(g.shape, shape)
      XCTAssertEqual(g.values(UInt8.self), greater, "\(sa) \(sb)")
      XCTAssertEqual(try run("Max", opset: 13, [a, b])[0].values(Int32.self), maximum, "\(sa) \(sb)")
    }
  }

  func testShapesThatDoNotBroadcast() throws {
    XCTAssertThrowsError(try run("Add", opset: 14, [floats([1, 2, 3]), floats([1, 2])])) { error in
      XCTAssertTrue("\(error)".contains("do not broadcast"), "\(error)")
    }
    XCTAssertThrowsError(try run("Add", opset: 14, [floats([1]), .scalar(Int64(1))])) { error in
      XCTAssertTrue("\(error)".contains("input 1 has element type int64; expected float"), "\(error)")
    }
  }

  /// float32 -> float8 codes, checked against ml_dtypes (saturate 0) and onnx's saturate_cast.
  func testCastToFloat8SaturateEdges() throws {
    let values: [Float] = [
      448, 464, 465, 480, .infinity, -.infinity, 0x1p-10, 0.75 * 0x1p-9, 1.5 * 0x1p-9, -0.0, -1e-10, 57344, 60000,
      61440, 240, 248, -300,
    ]
    let expected: [(DataType, [UInt8], [UInt8])] = [
      (
        .float8e4m3fn,
        [0x7e, 0x7e, 0x7e, 0x7e, 0x7e, 0xfe, 0x0, 0x1, 0x2, 0x80, 0x80, 0x7e, 0x7e, 0x7e, 0x77, 0x78, 0xf9],
        [0x7e, 0x7e, 0x7f, 0x7f, 0x7f, 0xff, 0x0, 0x1, 0x2, 0x80, 0x80, 0x7f, 0x7f, 0x7f, 0x77, 0x78, 0xf9]
      ),
      (
        .float8e4m3fnuz,
        [0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0xff, 0x1, 0x2, 0x3, 0x0, 0x0, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0xff],
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x1, 0x2, 0x3, 0x0, 0x0, 0x80, 0x80, 0x80, 0x7f, 0x80, 0x80]
      ),
      (
        .float8e5m2,
        [0x5f, 0x5f, 0x5f, 0x60, 0x7b, 0xfb, 0x14, 0x16, 0x1a, 0x80, 0x80, 0x7b, 0x7b, 0x7b, 0x5c, 0x5c, 0xdd],
        [0x5f, 0x5f, 0x5f, 0x60, 0x7c, 0xfc, 0x14, 0x16, 0x1a, 0x80, 0x80, 0x7b, 0x7b, 0x7c, 0x5c, 0x5c, 0xdd]
      ),
      (
        .float8e5m2fnuz,
        [0x63, 0x63, 0x63, 0x64, 0x7f, 0xff, 0x18, 0x1a, 0x1e, 0x0, 0x0, 0x7f, 0x7f, 0x7f, 0x60, 0x60, 0xe1],
        [0x63, 0x63, 0x63, 0x64, 0x80, 0x80, 0x18, 0x1a, 0x1e, 0x0, 0x0, 0x7f, 0x7f, 0x80, 0x60, 0x60, 0xe1]
      ),
    ]
    for (type, saturated, unsaturated) in expected {
      for (saturate, codes) in [(1, saturated), (0, unsaturated)] {
        let y = try run(
          "Cast", opset: 19, [floats(values)],
          attributes: [.int("to", Int64(type.rawValue)), .int("saturate", Int64(saturate))])[0]
        XCTAssertEqual(y.dataType, type)
        XCTAssertEqual(y.values(UInt8.self), codes, "\(type.name) saturate \(saturate)")
      }
      let nan = try run("Cast", opset: 19, [floats([.nan])], attributes: [.int("to", Int64(type.rawValue))])[0]
      XCTAssertTrue(nan.element(at: 0).isNaN, "\(type.name) NaN")
    }
  }

  func testCastFloatToIntegersAndBack() throws {
    let x = floats([-1.9, 1.9, 300, -129.5, .nan])
    XCTAssertEqual(
      try run("Cast", opset: 13, [x], attributes: [.int("to", Int64(DataType.int32.rawValue))])[0].values(Int32.self),
      [-1, 1, 300, -129, Int32(truncatingIfNeeded: Int64.min)])
    XCTAssertEqual(
      try run("Cast", opset: 13, [x], attributes: [.int("to", Int64(DataType.uint8.rawValue))])[0].values(UInt8.self),
      [255, 1, 44, 127, 0])
    XCTAssertEqual(
      try run("Cast", opset: 13, [x], attributes: [.int("to", Int64(DataType.bool.rawValue))])[0].values(UInt8.self),
      [1, 1, 1, 1, 1])
    let big = HostTensor(.int64, shape: [2], values: [Int64.max, Int64(-(1 << 53) - 1)])
    let d = try run("Cast", opset: 13, [big], attributes: [.int("to", Int64(DataType.double.rawValue))])[0]
    XCTAssertEqual(d.values(Double.self), [0x1p63, -0x1p53])
    let h = try run("Cast", opset: 13, [floats([1, 65520, 0.1])], attributes: [.int("to", 10)])[0]
    XCTAssertEqual(h.values(UInt16.self), [0x3c00, 0x7c00, 0x2e66])
  }

  func testCastOpset1TypeName() throws {
    let y = try run("Cast", opset: 1, [floats([2.7, -2.7])], attributes: [.string("to", "INT32")])[0]
    XCTAssertEqual(y.dataType, .int32)
    XCTAssertEqual(y.values(Int32.self), [2, -2])
    XCTAssertThrowsError(try run("Cast", opset: 1, [floats([1])], attributes: [.string("to", "QUATERNION")])) {
      error in XCTAssertTrue("\(error)".contains("attribute 'to'"), "\(error)")
    }
  }

  func testCastStrings() throws {
    let s = HostTensor(strings: ["1.5", "-INF", "NaN", "1e3", " 7 "], shape: [5])
    let f = try run("Cast", opset: 13, [s], attributes: [.int("to", 1)])[0].values(Float.self)
    XCTAssertEqual(f[0], 1.5)
    XCTAssertEqual(f[1], -.infinity)
    XCTAssertTrue(f[2].isNaN)
    XCTAssertEqual(Array(f[3...]), [1000, 7])
    let exact = HostTensor(strings: ["9007199254740993", "-3", "100.5"], shape: [3])
    XCTAssertEqual(
      try run("Cast", opset: 13, [exact], attributes: [.int("to", 7)])[0].values(Int64.self),
      [9_007_199_254_740_992, -3, 100])
    let integers = HostTensor(strings: ["9007199254740993", "-3"], shape: [2])
    XCTAssertEqual(
      try run("Cast", opset: 13, [integers], attributes: [.int("to", 7)])[0].values(Int64.self),
      [9_007_199_254_740_993, -3])
    let back = try run("Cast", opset: 13, [floats([1.5, .infinity, .nan])], attributes: [.int("to", 8)])[0]
    XCTAssertEqual(back.strings, ["1.5", "INF", "NaN"])
    XCTAssertThrowsError(
      try run("Cast", opset: 13, [HostTensor(strings: ["x"], shape: [1])], attributes: [.int("to", 1)])
    ) { error in XCTAssertTrue("\(error)".contains("'x' is not a number"), "\(error)") }
  }

  func testReduceAttributeAxesBeforeOpset18() throws {
    let x = floats([1, 2, 3, 4, 5, 6], [2, 3])
    let mean = try run("ReduceMean", opset: 13, [x], attributes: [.ints("axes", [1]), .int("keepdims", 0)])[0]
    XCTAssertEqual(mean.shape, [2])
    XCTAssertEqual(mean.values(Float.self), [2, 5])
    // ReduceSum takes axes as an input from opset 13; the others from 18.
    let sum = try run("ReduceSum", opset: 13, [x, HostTensor(.int64, shape: [1], values: [Int64(0)])])[0]
    XCTAssertEqual(sum.shape, [1, 3])
    XCTAssertEqual(sum.values(Float.self), [5, 7, 9])
    let old = try run("ReduceSum", opset: 11, [x], attributes: [.ints("axes", [-1])])[0]
    XCTAssertEqual(old.values(Float.self), [6, 15])
    let all = try run("ReduceMax", opset: 11, [x], attributes: [.int("keepdims", 0)])[0]
    XCTAssertEqual(all.shape, [])
    XCTAssertEqual(all.values(Float.self), [6])
  }

  func testReduceNoopWithEmptyAxesAndNonContiguousAxes() throws {
    let x = floats((0..<24).map(Float.init), [2, 3, 4])
    let noop = try run(
      "ReduceSum", opset: 13, [x, HostTensor(.int64, shape: [0], values: [Int64]())],
      attributes: [.int("noop_with_empty_axes", 1)])[0]
    XCTAssertEqual(noop.values(Float.self), x.values(Float.self))
    let y = try run("ReduceSum", opset: 18, [x, HostTensor(.int64, shape: [2], values: [Int64(0), 2])])[0]
    XCTAssertEqual(y.shape, [1, 3, 1])
    XCTAssertEqual(y.values(Float.self), [60, 92, 124])
    let ints = HostTensor(.int32, shape: [2, 2], values: [Int32(1), 2, 4, 7])
    XCTAssertEqual(
      try run("ReduceMean", opset: 18, [ints], attributes: [.int("keepdims", 0)])[0].values(Int32.self), [3])
  }

  func testIntegerReductionsAreExact() throws {
    let big = HostTensor(.int64, shape: [2], values: [Int64(1) << 60, 1])
    XCTAssertEqual(
      try run("ReduceSum", opset: 13, [big], attributes: [.int("keepdims", 0)])[0].values(Int64.self),
      [(1 << 60) + 1])
    XCTAssertEqual(try run("ReduceMax", opset: 13, [big])[0].values(Int64.self), [1 << 60])
    let int8 = HostTensor(.int8, shape: [3], values: [Int8(100), 100, -7])
    XCTAssertEqual(try run("ReduceSum", opset: 13, [int8])[0].values(Int8.self), [-63])  // wraps
    // Empty reductions of integers: the type's bounds for Max and Min, 0 and 1 for Sum and Prod.
    let empty = HostTensor(.int8, shape: [0, 2], values: [Int8]())
    let axes = HostTensor(.int64, shape: [1], values: [Int64(0)])
    XCTAssertEqual(try run("ReduceMax", opset: 18, [empty, axes])[0].values(Int8.self), [-128, -128])
    XCTAssertEqual(try run("ReduceMin", opset: 18, [empty, axes])[0].values(Int8.self), [127, 127])
    let empty64 = HostTensor(.int64, shape: [0], values: [Int64]())
    XCTAssertEqual(try run("ReduceMin", opset: 18, [empty64])[0].values(Int64.self), [Int64.max])
    XCTAssertEqual(try run("ReduceMax", opset: 18, [empty64])[0].values(Int64.self), [Int64.min])
    XCTAssertEqual(try run("ReduceProd", opset: 18, [empty64])[0].values(Int64.self), [1])
  }

  func testArgMaxSelectLastIndexAndIntegers() throws {
    let x = HostTensor(.int64, shape: [2, 3], values: [Int64(5), 1, 5, -1, -1, -2])
    XCTAssertEqual(try run("ArgMax", opset: 13, [x], attributes: [.int("axis", 1)])[0].values(Int64.self), [0, 0])
    XCTAssertEqual(
      try run("ArgMax", opset: 13, [x], attributes: [.int("axis", 1), .int("select_last_index", 1)])[0]
        .values(Int64.self), [2, 1])
    let y = try run("ArgMin", opset: 11, [x], attributes: [.int("keepdims", 0)])[0]
    XCTAssertEqual(y.shape, [3])
    XCTAssertEqual(y.values(Int64.self), [1, 1, 1])
  }

  func testCumSumExclusiveReverseIntegers() throws {
    let x = HostTensor(.int32, shape: [4], values: [Int32(1), 2, 3, 4])
    let axis = HostTensor(.int32, shape: [], values: [Int32(0)])
    XCTAssertEqual(
      try run("CumSum", opset: 14, [x, axis], attributes: [.int("exclusive", 1), .int("reverse", 1)])[0]
        .values(Int32.self), [9, 7, 4, 0])
    XCTAssertEqual(try run("CumSum", opset: 14, [x, axis])[0].values(Int32.self), [1, 3, 6, 10])
  }

  func testWhereAndEqualOnStrings() throws {
    let condition = HostTensor(.bool, shape: [2, 1], values: [UInt8(1), 0])
    let a = HostTensor(strings: ["a", "b"], shape: [2])
    let b = HostTensor(strings: ["z"], shape: [1])
    XCTAssertEqual(try run("Where", opset: 16, [condition, a, b])[0].strings, ["a", "b", "z", "z"])
    XCTAssertEqual(try run("Equal", opset: 19, [a, b])[0].values(UInt8.self), [0, 0])
    XCTAssertEqual(
      try run("Equal", opset: 19, [a, HostTensor(strings: ["b"], shape: [])])[0].values(UInt8.self), [0, 1])
  }

  func testDropoutInferenceForms() throws {
    let x = floats([1, 2, 3])
    let old = try run("Dropout", opset: 7, [x], attributes: [.float("ratio", 0.3)], outputs: 2)
    XCTAssertEqual(old[0].values(Float.self), [1, 2, 3])
    XCTAssertEqual(old[1].dataType, .float)
    XCTAssertEqual(old[1].values(Float.self), [1, 1, 1])
    let new = try run("Dropout", opset: 13, [x], outputs: 2)
    XCTAssertEqual(new[1].dataType, .bool)
    XCTAssertEqual(new[1].values(UInt8.self), [1, 1, 1])
    let training = HostTensor(.bool, shape: [], values: [UInt8(1)])
    XCTAssertEqual(
      try run("Dropout", opset: 13, [x, .scalar(Float(0)), training])[0].values(Float.self), [1, 2, 3])
    XCTAssertThrowsError(try run("Dropout", opset: 13, [x, .scalar(Float(0.5)), training])) { error in
      XCTAssertTrue("\(error)".contains("expected inference"), "\(error)")
    }
  }

  func testHalfPrecisionThroughFloat() throws {
    let x = HostTensor(
      .float16, shape: [3], values: [Float16(-1).bitPattern, Float16(0.5).bitPattern, Float16(2).bitPattern])
    let relu = try run("Relu", opset: 14, [x])[0]
    XCTAssertEqual(relu.dataType, .float16)
    XCTAssertEqual(relu.doubles(), [0, 0.5, 2])
    let b = HostTensor(.bfloat16, shape: [1], values: [FloatBits.floatToBFloat16(3)])
    XCTAssertEqual(try run("Mul", opset: 14, [b, b])[0].doubles(), [9])
  }

  func testActivationAttributes() throws {
    let x = floats([-2, 0.5])
    XCTAssertEqual(
      try run("LeakyRelu", opset: 6, [x], attributes: [.float("alpha", 0.5)])[0].values(Float.self), [-1, 0.5])
    XCTAssertEqual(
      try run("HardSigmoid", opset: 6, [x], attributes: [.float("alpha", 0.25), .float("beta", 0.5)])[0]
        .values(Float.self), [0, 0.625])
    let gelu = try run("Gelu", opset: 20, [floats([1])], attributes: [.string("approximate", "tanh")])[0]
    XCTAssertEqual(Double(gelu.values(Float.self)[0]), 0.8411920, accuracy: 1e-5)
    XCTAssertThrowsError(try run("Gelu", opset: 20, [x], attributes: [.string("approximate", "fast")]))
    XCTAssertEqual(try run("Round", opset: 11, [floats([0.5, 1.5, 2.5, -0.5])])[0].values(Float.self), [0, 2, 2, -0])
    let isInf = try run(
      "IsInf", opset: 10, [floats([.infinity, -.infinity, 1])], attributes: [.int("detect_positive", 0)])[0]
    XCTAssertEqual(isInf.values(UInt8.self), [0, 1, 0])
  }

  func testBitShiftUnsigned() throws {
    let x = HostTensor(.uint8, shape: [3], values: [UInt8(1), 0x80, 0xff])
    let s = HostTensor(.uint8, shape: [3], values: [UInt8(7), 1, 8])
    XCTAssertEqual(
      try run("BitShift", opset: 11, [x, s], attributes: [.string("direction", "LEFT")])[0].values(UInt8.self),
      [0x80, 0, 0])
    XCTAssertEqual(
      try run("BitShift", opset: 11, [x, s], attributes: [.string("direction", "RIGHT")])[0].values(UInt8.self),
      [0, 0x40, 0])
  }

  /// Selu-1 defaults alpha and gamma to the rounded 1.6732 and 1.0507; Selu-6 and later to the
  /// float32 nearest the exact constants. Expected values are the formula in float32 with each.
  func testSeluDefaultsFollowTheOpset() throws {
    let x = floats([-2, -0.5, 0, 1.5])
    let defaults: [(Int, Float, Float)] = [
      (1, 1.6732, 1.0507), (6, 1.67326319217681884765625, 1.05070102214813232421875),
    ]
    for (opset, alpha, gamma) in defaults {
      let expected = x.values(Float.self).map { $0 <= 0 ? gamma * (alpha * Foundation.exp($0) - alpha) : gamma * $0 }
      XCTAssertEqual(try run("Selu", opset: opset, [x])[0].values(Float.self), expected, "Selu-\(opset)")
    }
    XCTAssertNotEqual(
      try run("Selu", opset: 1, [x])[0].values(Float.self)[0], try run("Selu", opset: 6, [x])[0].values(Float.self)[0])
  }

  /// The float32 fast paths (equal shapes, scalar, one contiguous broadcast block, either side)
  /// agree with the general broadcasting path (Add on double, converted).
  func testFloatFastPathsMatchGeneralBroadcast() throws {
    let shapes: [([Int], [Int])] = [
      ([2, 3, 4], [2, 3, 4]), ([2, 3, 4], []), ([], [2, 3, 4]), ([2, 3, 4], [1]), ([2, 3, 4], [4]), ([4], [2, 3, 4]),
      ([2, 3, 4], [1, 3, 1]), ([3, 1], [2, 3, 4]), ([2, 3, 4], [2, 1, 4]), ([2, 1, 4], [1, 3, 1]),
    ]
    for (sa, sb) in shapes {
      let a = floats((0..<sa.reduce(1, *)).map { Float($0) + 1 }, sa)
      let b = floats((0..<sb.reduce(1, *)).map { Float($0) * 0.5 + 2 }, sb)
      let da = try ElementwiseCast.convert(a, to: .double, saturate: true)
      let db = try ElementwiseCast.convert(b, to: .double, saturate: true)
      for op in ["Add", "Sub", "Mul", "Div"] {
        let fast = try run(op, opset: 14, [a, b])[0]
        let general = try run(op, opset: 14, [da, db])[0]
        XCTAssertEqual(fast.shape, general.shape, "\(op) \(sa) \(sb)")
        XCTAssertEqual(fast.doubles().map { Float($0) }, general.doubles().map { Float($0) }, "\(op) \(sa) \(sb)")
      }
    }
  }
}
