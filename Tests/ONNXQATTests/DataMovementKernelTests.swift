import XCTest

@testable import ONNXQAT

/// Data-movement kernels on what ONNX's backend cases do not cover: the opset forms before
/// attributes became inputs (Slice 1-9, Pad 2, Squeeze/Unsqueeze 11, Split 11, Reshape 1-4,
/// TopK 1, Upsample 7/9, Resize 10), int8/uint8/float16/string elements, and errors.
final class DataMovementKernelTests: XCTestCase {
  /// Runs one node of `op` at `opset` on `inputs` (nil = omitted optional input).
  private func run(
    _ op: String, opset: Int64, _ inputs: [HostTensor?], _ attributes: [Attribute] = [], outputs: Int = 1
  ) throws -> [HostTensor] {
    try SingleNodeRun.run(op, opset: opset, inputs: inputs, attributes: attributes, outputs: outputs)
  }

  private func int8(_ values: [Int8], _ shape: [Int]) -> HostTensor { HostTensor(.int8, shape: shape, values: values) }
  private func uint8(_ values: [UInt8], _ shape: [Int]) -> HostTensor {
    HostTensor(.uint8, shape: shape, values: values)
  }
  private func int64(_ values: [Int64]) -> HostTensor { HostTensor(.int64, shape: [values.count], values: values) }
  private func float(_ values: [Float], _ shape: [Int]) -> HostTensor {
    HostTensor(.float, shape: shape, values: values)
  }
  private func ints(_ name: String, _ values: [Int64]) -> Attribute { Attribute(name: name, .ints(values)) }

  // MARK: Opset forms with attributes

  func testSliceOpset1AttributesClampAndCountFromTheEnd() throws {
    let data = int8((0..<12).map { Int8($0) - 6 }, [3, 4])
    let attributes = [ints("starts", [-2, 1]), ints("ends", [100, -1]), ints("axes", [0, 1])]
    let result = try run("Slice", opset: 9, [data], attributes)[0]
    XCTAssertEqual(result.shape, [2, 2])
    XCTAssertEqual(result.values(Int8.self), [-1, 0, 3, 4])
  }

  func testSliceNegativeStepsOnUInt8() throws {
    let data = uint8((0..<10).map { UInt8($0) }, [10])
    let result = try run("Slice", opset: 13, [data, int64([Int64.max]), int64([-100]), int64([0]), int64([-3])])[0]
    XCTAssertEqual(result.values(UInt8.self), [9, 6, 3, 0])
  }

  func testPadOpset2AttributesWithValue() throws {
    let data = float([1, 2, 3, 4], [2, 2])
    let attributes = [ints("pads", [0, 1, 1, 0]), Attribute(name: "value", .float(-1))]
    let result = try run("Pad", opset: 2, [data], attributes)[0]
    XCTAssertEqual(result.shape, [3, 3])
    XCTAssertEqual(result.values(Float.self), [-1, 1, 2, -1, 3, 4, -1, -1, -1])
  }

  func testPadOpset2ReflectAndNegativePadsCrop() throws {
    let data = int8([1, 2, 3, 4], [1, 4])
    let reflect = try run(
      "Pad", opset: 2, [data], [ints("pads", [0, 2, 0, 3]), Attribute(name: "mode", .string(Data("reflect".utf8)))])[0]
    XCTAssertEqual(reflect.values(Int8.self), [3, 2, 1, 2, 3, 4, 3, 2, 1])
    let cropped = try run("Pad", opset: 11, [data, int64([0, -1, 0, 2])])[0]
    XCTAssertEqual(cropped.values(Int8.self), [2, 3, 4, 0, 0])
  }

  func testPadOpset11EdgeAndConstantValueOnUInt8() throws {
    let data = uint8([5, 6, 7, 8], [2, 2])
    let edge = try run(
      "Pad", opset: 11, [data, int64([1, 0, 0, 1])], [Attribute(name: "mode", .string(Data("edge".utf8)))])[0]
    XCTAssertEqual(edge.values(UInt8.self), [5, 6, 6, 5, 6, 6, 7, 8, 8])
    let constant = try run("Pad", opset: 18, [data, int64([1, 1]), uint8([200], []), int64([-1])])[0]
    XCTAssertEqual(constant.values(UInt8.self), [200, 5, 6, 200, 200, 7, 8, 200])
  }

  func testSqueezeAndUnsqueezeOpset11Attributes() throws {
    let data = uint8([1, 2, 3], [1, 3, 1])
    XCTAssertEqual(try run("Squeeze", opset: 11, [data], [ints("axes", [-1])])[0].shape, [1, 3])
    XCTAssertEqual(try run("Squeeze", opset: 11, [data])[0].shape, [3])
    let unsqueezed = try run("Unsqueeze", opset: 11, [uint8([1, 2, 3], [3])], [ints("axes", [0, -1])])[0]
    XCTAssertEqual(unsqueezed.shape, [1, 3, 1])
    XCTAssertEqual(unsqueezed.values(UInt8.self), [1, 2, 3])
    XCTAssertThrowsError(try run("Squeeze", opset: 11, [data], [ints("axes", [1])]))
  }

  func testSplitOpset11AttributeAndOpset13EqualParts() throws {
    let data = int8([1, 2, 3, 4, 5, 6], [2, 3])
    let parts = try run(
      "Split", opset: 11, [data], [ints("split", [1, 2]), Attribute(name: "axis", .int(1))], outputs: 2)
    XCTAssertEqual(parts[0].values(Int8.self), [1, 4])
    XCTAssertEqual(parts[1].values(Int8.self), [2, 3, 5, 6])
    let halves = try run("Split", opset: 13, [data], outputs: 2)
    XCTAssertEqual(halves.map { $0.values(Int8.self) }, [[1, 2, 3], [4, 5, 6]])
  }

  func testReshapeOpset4ShapeAttributeAndErrors() throws {
    let data = int8([1, 2, 3, 4, 5, 6], [2, 3])
    XCTAssertEqual(try run("Reshape", opset: 4, [data], [ints("shape", [3, -1])])[0].shape, [3, 2])
    XCTAssertEqual(try run("Reshape", opset: 13, [data, int64([0, 3, 1])])[0].shape, [2, 3, 1])
    XCTAssertThrowsError(try run("Reshape", opset: 13, [data, int64([4, -1])]))
  }

  func testTopKOpset1AttributeNaNAndTies() throws {
    let data = float([1, .nan, 3, 3, -2], [5])
    let result = try run("TopK", opset: 1, [data], [Attribute(name: "k", .int(3))], outputs: 2)
    XCTAssertTrue(result[0].values(Float.self)[0].isNaN)
    XCTAssertEqual(Array(result[0].values(Float.self)[1...]), [3, 3])
    XCTAssertEqual(result[1].values(Int64.self), [1, 2, 3])
    let smallest = try run(
      "TopK", opset: 11, [int8([4, -3, 4, -3], [4]), int64([2])], [Attribute(name: "largest", .int(0))], outputs: 2)
    XCTAssertEqual(smallest[0].values(Int8.self), [-3, -3])
    XCTAssertEqual(smallest[1].values(Int64.self), [1, 3])
  }

  func testTopKFewOfManyKeepsIndexOrderForTies() throws {
    let data = float((0..<40).map { Float($0 % 7) }, [1, 40])
    let largest = try run("TopK", opset: 11, [data, int64([5])], outputs: 2)
    XCTAssertEqual(largest[0].values(Float.self), [6, 6, 6, 6, 6])
    XCTAssertEqual(largest[1].values(Int64.self), [6, 13, 20, 27, 34])
    let smallest = try run("TopK", opset: 11, [data, int64([3])], [Attribute(name: "largest", .int(0))], outputs: 2)
    XCTAssertEqual(smallest[1].values(Int64.self), [0, 7, 14])
  }

  // MARK: Upsample and Resize

  func testUpsampleOpset7NearestAttribute() throws {
    let data = uint8([1, 2, 3, 4], [1, 1, 2, 2])
    let result = try run("Upsample", opset: 7, [data], [Attribute(name: "scales", .floats([1, 1, 2, 3]))])[0]
    XCTAssertEqual(result.shape, [1, 1, 4, 6])
    XCTAssertEqual(Array(result.values(UInt8.self)[0..<12]), [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2])
  }

  func testUpsampleOpset9LinearIsAsymmetricAndClamped() throws {
    let data = float([0, 4], [1, 2])
    let result = try run(
      "Upsample", opset: 9, [data, float([1, 2], [2])], [Attribute(name: "mode", .string(Data("linear".utf8)))])[0]
    XCTAssertEqual(result.values(Float.self), [0, 2, 4, 4])
  }

  func testResizeOpset10NearestCeilsWhenDownsampling() throws {
    let data = int8([10, 11, 12, 13], [4])
    let result = try run("Resize", opset: 10, [data, float([0.75], [1])])[0]
    XCTAssertEqual(result.values(Int8.self), [10, 12, 13])
  }

  func testResizeOpset11TfHalfPixelForNN() throws {
    // onnxruntime 1.31 gives [0, 1, 1, 2, 2, 3, 3, 3] for this node.
    let attributes = [Attribute(name: "coordinate_transformation_mode", .string(Data("tf_half_pixel_for_nn".utf8)))]
    let emptyRoi = float([], [0])
    let result = try run("Resize", opset: 11, [int8([0, 1, 2, 3], [4]), emptyRoi, float([2], [1])], attributes)[0]
    XCTAssertEqual(result.values(Int8.self), [0, 1, 1, 2, 2, 3, 3, 3])
  }

  func testResizeNearestOnUInt8WithSizes() throws {
    let data = uint8([1, 2, 3, 4], [1, 1, 2, 2])
    let attributes = [Attribute(name: "nearest_mode", .string(Data("floor".utf8)))]
    let result = try run("Resize", opset: 13, [data, nil, nil, int64([1, 1, 3, 3])], attributes)[0]
    XCTAssertEqual(result.values(UInt8.self), [1, 1, 2, 1, 1, 2, 3, 3, 4])
  }

  func testResizeLinearOnUInt8RoundsHalfToEven() throws {
    let data = uint8([0, 2], [2])
    let attributes = [Attribute(name: "mode", .string(Data("linear".utf8)))]
    // half_pixel: x_ori = -0.25, 0.25, 0.75, 1.25 -> 0, 0.5, 1.5, 2 -> 0, 0, 2, 2.
    let result = try run("Resize", opset: 19, [data, nil, float([2], [1])], attributes)[0]
    XCTAssertEqual(result.values(UInt8.self), [0, 0, 2, 2])
  }

  func testResizeLinearOnFloat16() throws {
    let data = HostTensor(.float16, shape: [2], values: [FloatBits.floatToFloat16(0), FloatBits.floatToFloat16(3)])
    let attributes = [
      Attribute(name: "mode", .string(Data("linear".utf8))),
      Attribute(name: "coordinate_transformation_mode", .string(Data("align_corners".utf8))),
    ]
    let result = try run("Resize", opset: 13, [data, nil, nil, int64([4])], attributes)[0]
    XCTAssertEqual(result.dataType, .float16)
    XCTAssertEqual(result.values(UInt16.self).map(FloatBits.float16ToFloat), [0, 1, 2, 3])
  }

  // MARK: Element types

  func testTransposeConcatGatherOnInt8() throws {
    let data = int8([1, 2, 3, 4, 5, 6], [2, 3])
    let transposed = try run("Transpose", opset: 13, [data])[0]
    XCTAssertEqual(transposed.shape, [3, 2])
    XCTAssertEqual(transposed.values(Int8.self), [1, 4, 2, 5, 3, 6])
    let joined = try run("Concat", opset: 13, [data, int8([-1, -2], [2, 1])], [Attribute(name: "axis", .int(-1))])[0]
    XCTAssertEqual(joined.values(Int8.self), [1, 2, 3, -1, 4, 5, 6, -2])
    let gathered = try run("Gather", opset: 13, [data, int64([-1, 0])], [Attribute(name: "axis", .int(1))])[0]
    XCTAssertEqual(gathered.values(Int8.self), [3, 1, 6, 4])
    XCTAssertThrowsError(try run("Gather", opset: 13, [data, int64([3])], [Attribute(name: "axis", .int(1))]))
  }

  func testStringsMoveThroughConcatTransposeGatherAndPad() throws {
    let words = HostTensor(strings: ["a", "b", "c", "d"], shape: [2, 2])
    XCTAssertEqual(try run("Transpose", opset: 13, [words])[0].strings, ["a", "c", "b", "d"])
    let more = HostTensor(strings: ["e", "f"], shape: [1, 2])
    XCTAssertEqual(
      try run("Concat", opset: 13, [words, more], [Attribute(name: "axis", .int(0))])[0].strings,
      ["a", "b", "c", "d", "e", "f"])
    XCTAssertEqual(try run("Gather", opset: 13, [words, int64([1])])[0].strings, ["c", "d"])
    let padded = try run("Pad", opset: 13, [words, int64([0, 1, 0, 0]), HostTensor(strings: ["_"], shape: [])])[0]
    XCTAssertEqual(padded.strings, ["_", "a", "b", "_", "c", "d"])
    XCTAssertEqual(try run("Pad", opset: 13, [words, int64([0, 0, 0, 1])])[0].strings, ["a", "b", "", "c", "d", ""])
  }

  func testExpandTileDepthToSpaceOnUInt8() throws {
    let expanded = try run("Expand", opset: 13, [uint8([1, 2], [2, 1]), int64([2, 3])])[0]
    XCTAssertEqual(expanded.values(UInt8.self), [1, 1, 1, 2, 2, 2])
    let tiled = try run("Tile", opset: 13, [uint8([1, 2], [1, 2]), int64([2, 2])])[0]
    XCTAssertEqual(tiled.values(UInt8.self), [1, 2, 1, 2, 1, 2, 1, 2])
    let depth = uint8([0, 1, 2, 3], [1, 4, 1, 1])
    let crd = try run(
      "DepthToSpace", opset: 13, [depth],
      [Attribute(name: "blocksize", .int(2)), Attribute(name: "mode", .string(Data("CRD".utf8)))])[0]
    XCTAssertEqual(crd.shape, [1, 1, 2, 2])
    XCTAssertEqual(crd.values(UInt8.self), [0, 1, 2, 3])
  }

  func testScatterReductionsWrapOnInt8() throws {
    let data = int8([100, 0, 0], [3])
    let added = try run(
      "ScatterND", opset: 18, [data, HostTensor(.int64, shape: [2, 1], values: [Int64(0), 0]), int8([20, 10], [2])],
      [Attribute(name: "reduction", .string(Data("add".utf8)))])[0]
    XCTAssertEqual(added.values(Int8.self), [-126, 0, 0])
    let elements = try run(
      "ScatterElements", opset: 18, [data, int64([2, -3]), int8([7, 50], [2])],
      [Attribute(name: "reduction", .string(Data("max".utf8)))])[0]
    XCTAssertEqual(elements.values(Int8.self), [100, 0, 7])
  }

  func testGatherLastAxisAndPadWrapOnUInt8() throws {
    let data = uint8([1, 2, 3, 4, 5, 6], [2, 3])
    let gathered = try run("Gather", opset: 13, [data, int64([2, 2, 0])], [Attribute(name: "axis", .int(1))])[0]
    XCTAssertEqual(gathered.values(UInt8.self), [3, 3, 1, 6, 6, 4])
    let wrapped = try run(
      "Pad", opset: 19, [data, int64([0, 2, 0, 4])], [Attribute(name: "mode", .string(Data("wrap".utf8)))])[0]
    XCTAssertEqual(wrapped.shape, [2, 9])
    XCTAssertEqual(Array(wrapped.values(UInt8.self)[0..<9]), [2, 3, 1, 2, 3, 1, 2, 3, 1])
  }

  func testGatherNDWithBatchDims() throws {
    let data = int8((0..<8).map { Int8($0) }, [2, 2, 2])
    let indices = HostTensor(.int64, shape: [2, 1, 1], values: [Int64(1), 0])
    let result = try run("GatherND", opset: 13, [data, indices], [Attribute(name: "batch_dims", .int(1))])[0]
    XCTAssertEqual(result.shape, [2, 1, 2])
    XCTAssertEqual(result.values(Int8.self), [2, 3, 4, 5])
  }

  func testHostileSizesAreRefusedNotTrapped() throws {
    XCTAssertThrowsError(try run("Range", opset: 11, [float([0], []), float([1], []), float([.nan], [])]))
    XCTAssertThrowsError(try run("Resize", opset: 13, [float([1, 2], [2]), nil, float([1e30], [1])]))
    XCTAssertThrowsError(try run("Resize", opset: 13, [float([], [0]), nil, nil, int64([4])]))
    XCTAssertThrowsError(try run("Gather", opset: 13, [float([1], []), int64([0])]))
    let kept = try run("Trilu", opset: 14, [int8([1, 2, 3, 4], [2, 2]), HostTensor.scalar(Int64.min)])[0]
    XCTAssertEqual(kept.values(Int8.self), [1, 2, 3, 4])
    let range = try run("Range", opset: 11, [int64([10]), int64([1]), int64([-4])])[0]
    XCTAssertEqual(range.values(Int64.self), [10, 6, 2])
  }

  func testConstantOfShapeNonZeroAndConstantInts() throws {
    let value = HostTensor(.int8, shape: [1], values: [Int8(-7)])
    let filled = try run(
      "ConstantOfShape", opset: 20, [int64([2, 2])], [Attribute(name: "value", .tensor(value.irTensor(name: nil)))])[0]
    XCTAssertEqual(filled.values(Int8.self), [-7, -7, -7, -7])
    let nonzero = try run("NonZero", opset: 13, [float([0, -0.0, .nan, 2], [2, 2])])[0]
    XCTAssertEqual(nonzero.shape, [2, 2])
    XCTAssertEqual(nonzero.values(Int64.self), [1, 1, 0, 1])
    let constant = try run("Constant", opset: 13, [], [ints("value_ints", [3, -4])])[0]
    XCTAssertEqual(constant.dataType, .int64)
    XCTAssertEqual(constant.values(Int64.self), [3, -4])
  }
}
