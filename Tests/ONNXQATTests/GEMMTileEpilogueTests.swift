import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The float GEMM's macro-kernel with a fused epilogue per row (`qat_gemm_float_block_epilogue`,
/// which applies it to each tile as it stores) equals the plain macro-kernel followed by
/// `qat_float_epilogue_apply` on each row's stored columns, bit for bit, on every path this CPU
/// has (AVX-512, AVX2, portable): random block shapes (partial tiles and slivers, odd runs of
/// slivers), row strides wider than the block, overwriting and accumulating, and per-row
/// epilogues of every kind (normalization, Relu, Clip with -0 and NaN bounds, LeakyRelu) over
/// values that include -0, infinities and NaN. Columns outside the block's slivers and rows'
/// padding must stay untouched, which the comparison of the whole C checks.
final class GEMMTileEpilogueTests: XCTestCase {
  override func tearDown() {
    qat_gemm_float_set_level(QAT_GEMM_FLOAT_AVX512)
    super.tearDown()
  }

  func testFusedTileEpilogueEqualsTheBlockThenTheEpiloguePass() {
    let rowsPerTile = Int(QAT_FLOAT_TILE_ROWS)
    let columnsPerSliver = Int(QAT_FLOAT_TILE_COLUMNS)
    let palette: [Float] = [0, -0.0, 1, -1, 0.5, -2.25, 6, -6, .infinity, -.infinity, .nan, 3.5]
    let kinds = epilogueKinds
    var numbers = SeededFloats(state: 17)
    func pick(_ values: [Float]) -> Float { values[Int((numbers.next() + 1) * 1000) % values.count] }
    var levelsRun = Set<Int32>()
    for trial in 0..<200 {
      let rows = 1 + Int((numbers.next() + 1) * 20) % 20
      let width = 1 + Int((numbers.next() + 1) * 40) % 70
      let depth = 1 + Int((numbers.next() + 1) * 20) % 24
      let slivers = (width + columnsPerSliver - 1) / columnsPerSliver
      let first = Int((numbers.next() + 1) * 100) % slivers
      let end = first + 1 + Int((numbers.next() + 1) * 100) % (slivers - first)
      let ldc = width + Int((numbers.next() + 1) * 4) % 4
      let paddedRows = (rows + rowsPerTile - 1) / rowsPerTile * rowsPerTile
      // Small integers and halves (exact sums), with the palette's specials in every tenth trial.
      let value = { () -> Float in trial % 10 == 0 ? pick(palette) : Float(Int(numbers.next() * 8)) / 2 }
      let a = (0..<(paddedRows * depth)).map { _ in value() }
      let b = (0..<(slivers * columnsPerSliver * depth)).map { _ in value() }
      let initial = (0..<(rows * ldc)).map { _ in pick(palette) }
      let start = (0..<rows).map { _ in pick(palette) }
      let epilogues = (0..<rows).map { _ in kinds[Int((numbers.next() + 1) * 1000) % kinds.count] }
      let overwrite = trial % 2 == 0
      for level in [QAT_GEMM_FLOAT_PORTABLE, QAT_GEMM_FLOAT_AVX2, QAT_GEMM_FLOAT_AVX512] {
        qat_gemm_float_set_level(level)
        guard qat_gemm_float_level() == level else { continue }
        levelsRun.insert(level)
        var fused = initial
        var separate = initial
        run(a, b, depth, rows, first..<end, width, &fused, ldc, overwrite, start, epilogues)
        run(a, b, depth, rows, first..<end, width, &separate, ldc, overwrite, start, [])
        let columns = (first * columnsPerSliver)..<min(width, end * columnsPerSliver)
        separate.withUnsafeMutableBufferPointer { c in
          guard let base = c.baseAddress else { return }
          for row in 0..<rows {
            var epilogue = epilogues[row]
            qat_float_epilogue_apply(base + row * ldc + columns.lowerBound, columns.count, &epilogue)
          }
        }
        // A NaN's payload through an operation is the instruction's choice: canonical NaN.
        XCTAssertEqual(
          fused.map { $0.isNaN ? Float.nan.bitPattern : $0.bitPattern },
          separate.map { $0.isNaN ? Float.nan.bitPattern : $0.bitPattern },
          "trial \(trial) level \(level): \(rows) rows, \(width) wide, depth \(depth), slivers \(first)..<\(end)")
      }
    }
    XCTAssertTrue(levelsRun.contains(QAT_GEMM_FLOAT_PORTABLE))
  }

  /// Epilogues of every kind, as the C kernels take them.
  private var epilogueKinds: [qat_float_epilogue] {
    let normalizations: [(factor: [Float], shift: [Float])?] = [nil, ([1], [-0.0]), ([-0.5], [6])]
    let activations: [FusedEpilogue.Activation?] = [
      nil, .relu, .clip(low: 0, high: 6), .clip(low: -0.0, high: 0), .clip(low: .nan, high: 1),
      .leakyRelu(alpha: 0.1), .leakyRelu(alpha: -2),
    ]
    return normalizations.flatMap { normalization in
      activations.map { FusedEpilogue(normalization: normalization, activation: $0).kernelEpilogue(channel: 0) }
    }
  }

  /// The macro-kernel on the block, with `epilogues` per row (none when empty).
  private func run(
    _ a: [Float], _ b: [Float], _ depth: Int, _ rows: Int, _ slivers: Range<Int>, _ width: Int, _ c: inout [Float],
    _ ldc: Int, _ overwrite: Bool, _ start: [Float], _ epilogues: [qat_float_epilogue]
  ) {
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        start.withUnsafeBufferPointer { ps in
          epilogues.withUnsafeBufferPointer { table in
            c.withUnsafeMutableBufferPointer { pc in
              qat_gemm_float_block_epilogue(
                Int32(depth), pa.baseAddress, Int32(rows), pb.baseAddress, Int32(slivers.lowerBound),
                Int32(slivers.upperBound), Int32(width), pc.baseAddress, ldc, overwrite ? 1 : 0,
                overwrite ? ps.baseAddress : nil, table.isEmpty ? nil : table.baseAddress)
            }
          }
        }
      }
    }
  }
}
