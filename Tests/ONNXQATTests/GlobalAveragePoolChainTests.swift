import Foundation
import XCTest

@testable import ONNXQAT

/// GlobalAveragePool sums eight planes side by side; each plane must still be one chain of
/// additions in index order from 0, divided by the plane's size. Exact comparison with that
/// loop written here (same operations, same order) for plane counts around multiples of eight
/// (1 to 19: whole groups of eight and leftovers), sizes 1 to 300 values, and values of mixed
/// magnitude so that another summation order would show in the low bits.
final class GlobalAveragePoolChainTests: XCTestCase {
  func testEachPlaneIsSummedInIndexOrderBitForBit() throws {
    var numbers = SeededFloats(state: 3)
    for planes in [1, 7, 8, 9, 16, 19] {
      for (height, width) in [(1, 1), (3, 5), (14, 14), (10, 30)] {
        let spatial = height * width
        let values = (0..<(planes * spatial)).map { index in numbers.next() * (index % 3 == 0 ? 1000 : 0.001) }
        let x = HostTensor(.float, shape: [1, planes, height, width], values: values)
        let y = try SingleNodeRun.run(
          "GlobalAveragePool", opset: 22, inputs: [x], attributes: [], outputs: 1, options: ExecutionOptions())[0]
        XCTAssertEqual(y.shape, [1, planes, 1, 1])
        let got = (0..<planes).map { y.pointer(Float.self)[$0].bitPattern }
        let expected = (0..<planes).map { plane -> UInt32 in
          var sum: Float = 0
          for i in 0..<spatial { sum += values[plane * spatial + i] }
          return (sum / Float(spatial)).bitPattern
        }
        XCTAssertEqual(got, expected, "\(planes) planes of \(height)x\(width)")
      }
    }
  }
}
