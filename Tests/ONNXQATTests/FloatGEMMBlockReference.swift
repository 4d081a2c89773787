import CIntegerKernels

/// The stated semantics of the float GEMM's C macro-kernel (`qat_gemm_float_block`), a plain loop
/// over its packed operands, for the tests that compare the kernel's paths with it.
enum FloatGEMMBlockReference {
  /// C after the plain loop: the elements of the columns of `slivers` (clipped to `width`) in the
  /// first `rows` rows get their fused sum (from 0, k ascending) added to C, or to `start[row]`
  /// when given. A and B are packed as the kernel reads them (tiles of QAT_FLOAT_TILE_ROWS rows,
  /// slivers of QAT_FLOAT_TILE_COLUMNS columns).
  static func result(
    _ a: [Float], _ b: [Float], depth: Int, rows: Int, width: Int, slivers: Range<Int>, c: [Float], ldc: Int,
    start: [Float]?
  ) -> [Float] {
    let (rowsPerTile, columnsPerSliver) = (Int(QAT_FLOAT_TILE_ROWS), Int(QAT_FLOAT_TILE_COLUMNS))
    var c = c
    for row in 0..<rows {
      let aBase = row / rowsPerTile * rowsPerTile * depth + row % rowsPerTile
      for column in (slivers.lowerBound * columnsPerSliver)..<min(width, slivers.upperBound * columnsPerSliver) {
        let bBase = column / columnsPerSliver * columnsPerSliver * depth + column % columnsPerSliver
        var sum: Float = 0
        for p in 0..<depth { sum.addProduct(a[aBase + p * rowsPerTile], b[bBase + p * columnsPerSliver]) }
        c[row * ldc + column] = (start?[row] ?? c[row * ldc + column]) + sum
      }
    }
    return c
  }
}
