import Foundation

/// How `NeuralNetworkGEMM` meets the C it is given: added to, or written over with a start value
/// per row (a Conv's bias), which spares filling C beforehand and reading it back.
///
///     accumulate:          C[i, j] += sum_k A[i, k] * B[k, j]
///     overwrite(start):    C[i, j]  = start[i] + sum_k A[i, k] * B[k, j]   (start[i] = 0 when nil)
///
/// Overwriting adds the row's start value to the first K block's sum where accumulating adds C,
/// so it gives the bits of filling C with the start values and accumulating.
enum GEMMStart {
  /// C += A * B.
  case accumulate
  /// C = start + A * B, row i starting from `values[i]` (every row from 0 when nil); C is not read.
  case overwrite(UnsafePointer<Float>?)

  /// Fills C[rows, columns] with the start values (nothing when accumulating), for the paths
  /// that accumulate into C.
  func fill(_ c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, columns: Range<Int>) {
    guard case .overwrite(let values) = self else { return }
    for row in rows {
      (c + row * ldc + columns.lowerBound).update(repeating: values?[row] ?? 0, count: columns.count)
    }
  }

  /// The start values of the rows from `first` on; nil when accumulating.
  func rows(from first: Int) -> GEMMRowStart? {
    guard case .overwrite(let values) = self else { return nil }
    return GEMMRowStart(values: values.map { $0 + first })
  }
}

/// The start values of the rows of one block of an overwriting product (`GEMMStart.overwrite`).
struct GEMMRowStart {
  /// Row i's start value is `values[i]`; 0 for every row when nil.
  let values: UnsafePointer<Float>?

  /// The start value of row `row`.
  @inline(__always)
  func value(_ row: Int) -> Float { values?[row] ?? 0 }

  /// The start values of the rows from `first` on.
  @inline(__always)
  func rows(from first: Int) -> GEMMRowStart { GEMMRowStart(values: values.map { $0 + first }) }
}
