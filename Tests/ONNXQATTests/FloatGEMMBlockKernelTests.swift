import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The C macro-kernel of the float GEMM (`qat_gemm_float_block`, used by AVX2 release builds)
/// against a plain loop with the same summation order (each element from 0, one fused
/// multiply-add per k, k ascending, then added to C or to the row's start value), on its AVX2 +
/// FMA path and on its portable path, bit for bit: depths from 1 to two K blocks, partial tiles
/// of rows and of columns, slivers from the middle of a block, accumulating and overwriting.
final class FloatGEMMBlockKernelTests: XCTestCase {
  private let rowsPerTile = Int(QAT_FLOAT_TILE_ROWS)
  private let columnsPerSliver = Int(QAT_FLOAT_TILE_COLUMNS)

  override func tearDown() {
    qat_gemm_float_set_portable(0)
    super.tearDown()
  }

  func testBothPathsEqualThePlainLoopBitForBit() {
    var numbers = SeededFloats(state: 41)
    for depth in [1, 2, 7, 64, 147, 288] {
      for (rows, width, slivers) in [(1, 1, 0..<1), (6, 16, 0..<1), (5, 17, 0..<2), (13, 40, 1..<3), (120, 56, 0..<4)] {
        let aCount = (rows + rowsPerTile - 1) / rowsPerTile * rowsPerTile * depth
        let bCount = (width + columnsPerSliver - 1) / columnsPerSliver * columnsPerSliver * depth
        // Padding rows of A and padding columns of B are zero, as the packing leaves them.
        let row = { (index: Int) in index / (self.rowsPerTile * depth) * self.rowsPerTile + index % self.rowsPerTile }
        let column = { (index: Int) in
          index / (self.columnsPerSliver * depth) * self.columnsPerSliver + index % self.columnsPerSliver
        }
        let a = (0..<aCount).map { row($0) < rows ? 1.37 * numbers.next() : 0 }
        let b = (0..<bCount).map { column($0) < width ? 0.91 * numbers.next() : 0 }
        let ldc = width + 5
        let initial = (0..<(rows * ldc)).map { _ in numbers.next() }
        let start = (0..<rows).map { _ in numbers.next() }
        for (overwrite, withStart) in [(false, false), (true, true), (true, false)] {
          let expected = FloatGEMMBlockReference.result(
            a, b, depth: depth, rows: rows, width: width, slivers: slivers, c: initial, ldc: ldc,
            start: overwrite ? (withStart ? start : Array(repeating: 0, count: rows)) : nil)
          for portable in [1, 0] {
            qat_gemm_float_set_portable(Int32(portable))
            var c = initial
            a.withUnsafeBufferPointer { pa in
              b.withUnsafeBufferPointer { pb in
                start.withUnsafeBufferPointer { ps in
                  c.withUnsafeMutableBufferPointer { pc in
                    qat_gemm_float_block(
                      Int32(depth), pa.baseAddress, Int32(rows), pb.baseAddress, Int32(slivers.lowerBound),
                      Int32(slivers.upperBound), Int32(width), pc.baseAddress, ldc, overwrite ? 1 : 0,
                      withStart ? ps.baseAddress : nil)
                  }
                }
              }
            }
            XCTAssertEqual(
              c.map(\.bitPattern), expected.map(\.bitPattern),
              "depth \(depth), rows \(rows), width \(width), slivers \(slivers), overwrite \(overwrite), "
                + "start \(withStart), portable \(portable)")
          }
        }
      }
    }
  }
}
