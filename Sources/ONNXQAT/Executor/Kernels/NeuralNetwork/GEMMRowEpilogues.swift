import CIntegerKernels

/// A fused Conv epilogue per row of a `NeuralNetworkGEMM` product's C (row i = output channel i:
/// BatchNormalization then Relu, Clip or LeakyRelu, as `qat_float_epilogue`), applied by the
/// macro-kernel to each tile of the last K block just after storing it, while the tile is in
/// cache, instead of in a pass over the finished output. The operations are those of
/// `qat_float_epilogue_apply` on the same final values, so the bits are the same.
struct GEMMRowEpilogues {
  /// Row i's epilogue is `values[i]`.
  let values: UnsafePointer<qat_float_epilogue>

  /// The epilogues of the rows from `first` on.
  @inline(__always)
  func rows(from first: Int) -> GEMMRowEpilogues { GEMMRowEpilogues(values: values + first) }

  /// Applies the epilogues to C[rows, columns] in place (the paths without tiles).
  func apply(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, columns: Range<Int>) {
    guard !columns.isEmpty else { return }
    for row in rows { qat_float_epilogue_apply(c + row * ldc + columns.lowerBound, columns.count, values + row) }
  }
}
