import Foundation
import XCTest

@testable import ONNXQAT

/// The per-tensor loops of QuantizeLinear and DequantizeLinear (one float scale, uint8 or int8)
/// must equal the general per-axis loops bit for bit: the same tensor through a per-axis node
/// whose scales and zero points all equal the per-tensor ones takes the general loop, so the two
/// outputs are compared exactly, on values that include ties, saturation, signed zeros and NaN.
final class QuantizeDequantizePerTensorTests: XCTestCase {
  /// 2 channels x 24 values: halves and ties around the scale, large values, tiny ones.
  private let values: [Float] = (0..<48).map { index in
    let special: [Float] = [0, -0, .nan, 1e30, -1e30, 0.5, -0.5, 1.5, -2.5, 127.5, -128.5, 255.5]
    return index < special.count ? special[index] : Float(index - 24) * 0.37 + 0.005
  }

  /// The scalar `value` repeated for the 2 channels of axis 1.
  private func perAxis(_ value: HostTensor) -> HostTensor {
    func repeated<T>(_ type: T.Type) -> HostTensor {
      HostTensor(value.dataType, shape: [2], values: [T](repeating: value.values(T.self)[0], count: 2))
    }
    switch value.dataType {
    case .float: return repeated(Float.self)
    case .uint8: return repeated(UInt8.self)
    default: return repeated(Int8.self)
    }
  }

  private func bytes(_ tensor: HostTensor) -> [UInt8] {
    let count = tensor.count * tensor.dataType.storageStride
    return Array(UnsafeRawBufferPointer(start: tensor.pointer(UInt8.self), count: count))
  }

  func testPerTensorLoopsEqualTheGeneralLoops() throws {
    let x = HostTensor(.float, shape: [1, 2, 4, 6], values: values)
    let scale = HostTensor(.float, shape: [], values: [Float(0.37)])
    let zeroPoints = [
      HostTensor(.uint8, shape: [], values: [UInt8(131)]), HostTensor(.int8, shape: [], values: [Int8(-3)]),
    ]
    for zeroPoint in zeroPoints {
      let quantized = try SingleNodeRun.run("QuantizeLinear", opset: 13, inputs: [x, scale, zeroPoint])[0]
      let quantizedPerAxis = try SingleNodeRun.run(
        "QuantizeLinear", opset: 13, inputs: [x, perAxis(scale), perAxis(zeroPoint)], attributes: [.int("axis", 1)])[0]
      XCTAssertEqual(quantized.dataType, zeroPoint.dataType)
      XCTAssertEqual(bytes(quantized), bytes(quantizedPerAxis))
      for opset: Int64 in [13, 21] {
        let restored = try SingleNodeRun.run("DequantizeLinear", opset: opset, inputs: [quantized, scale, zeroPoint])[0]
        let restoredPerAxis = try SingleNodeRun.run(
          "DequantizeLinear", opset: opset, inputs: [quantized, perAxis(scale), perAxis(zeroPoint)],
          attributes: [.int("axis", 1)])[0]
        XCTAssertEqual(restored.dataType, .float)
        XCTAssertEqual(restored.shape, [1, 2, 4, 6])
        XCTAssertEqual(bytes(restored), bytes(restoredPerAxis))
      }
      // No zero point: uint8 output and a zero point of 0.
      let unsignedResult = try SingleNodeRun.run("DequantizeLinear", opset: 13, inputs: [quantized, scale, nil])[0]
      let general = try SingleNodeRun.run(
        "DequantizeLinear", opset: 13, inputs: [quantized, perAxis(scale), nil], attributes: [.int("axis", 1)])[0]
      XCTAssertEqual(bytes(unsignedResult), bytes(general))
    }
  }
}
