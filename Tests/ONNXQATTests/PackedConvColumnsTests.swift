import Foundation
import XCTest

@testable import ONNXQAT

/// The Conv path that writes im2col straight into the GEMM's packed layout: `Im2col.expandPacked`
/// moves exactly the values `Im2col.expand` lays out (compared exactly, padding included),
/// `NeuralNetworkGEMM.multiplyPacked` gives the bits of `multiply` on the unpacked operands on one
/// and two threads, and `GEMMStart.overwrite` gives the bits of filling C with the start values
/// and accumulating, on every path of `multiply` (direct, column split, row-and-column split).
/// All comparisons are bit for bit: the summation order of every element is the same.
final class PackedConvColumnsTests: XCTestCase {
  /// Geometries: (channels, height, width, kernel, stride, pad, dilation); depths 27 to 4 x 81 =
  /// 324 (two K blocks), strides 1 to 3, widths that end in partial slivers.
  private let geometries = [
    (3, 9, 9, 3, 2, 1, 1), (4, 7, 23, 3, 1, 1, 1), (36, 6, 10, 3, 1, 1, 1), (4, 11, 13, 9, 1, 4, 1),
    (2, 12, 17, 3, 3, 0, 2), (5, 8, 19, 5, 2, 2, 1),
  ]

  private func geometry(_ h: Int, _ w: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int) -> WindowGeometry {
    let reach = (k - 1) * d + 1
    return WindowGeometry(
      input: [1, h, w], kernel: [1, k, k], strides: [1, s, s], dilations: [1, d, d], padsBegin: [0, p, p],
      output: [1, (h + 2 * p - reach) / s + 1, (w + 2 * p - reach) / s + 1])
  }

  func testPackedColumnsHoldTheIm2colValues() {
    var numbers = SeededFloats(state: 31)
    for (channels, h, w, k, s, p, d) in geometries {
      let g = geometry(h, w, k, s, p, d)
      let image = (0..<(channels * h * w)).map { _ in numbers.next() }
      let depth = channels * k * k
      let outH = g.output[1]
      let outW = g.output[2]
      // Every band of two lines but the last, then all the lines at once.
      for lines in [0..<min(2, outH), (outH - 1)..<outH, 0..<outH] {
        let width = lines.count * outW
        let layout = NeuralNetworkPackedB(k: depth, n: width)
        for threads in [1, 2] {
          // NaN wherever nothing is written, so a value or padding lane left out shows.
          var columns = [Float](repeating: .nan, count: depth * width)
          var packed = [Float](repeating: .nan, count: layout.count)
          image.withUnsafeBufferPointer { x in
            guard let px = x.baseAddress else { return }
            columns.withUnsafeMutableBufferPointer { c in
              guard let pc = c.baseAddress else { return }
              Im2col.expand(px, channels: channels, geometry: g, lines: lines, into: pc)
            }
            packed.withUnsafeMutableBufferPointer { b in
              guard let pb = b.baseAddress else { return }
              Im2col.expandPacked(
                px, channels: channels, geometry: g, lines: lines, into: pb, layout: layout, threads: threads)
            }
          }
          var wrong = 0
          let nr = NeuralNetworkGEMM.nr
          for row in 0..<depth {
            for sliver in 0..<layout.sliverCount {
              for lane in 0..<nr {
                let column = sliver * nr + lane
                let value = packed[layout.rowOffset(row) + sliver * layout.sliverStride(row) + lane]
                let expected = column < width ? columns[row * width + column] : 0
                if value.bitPattern != expected.bitPattern { wrong += 1 }
              }
            }
          }
          XCTAssertEqual(wrong, 0, "geometry \((channels, h, w, k, s, p, d)), lines \(lines), threads \(threads)")
        }
      }
    }
  }

  /// Products of a packed A and a packed B against `multiply` (overwriting with start values, and
  /// accumulating into C): m up to 130 (two row blocks of `mc`, partial tiles), n with partial
  /// slivers, k over one and two K blocks.
  func testPackedProductEqualsMultiplyBitForBit() {
    var numbers = SeededFloats(state: 32)
    for (m, n, k) in [(64, 112, 147), (13, 37, 576), (130, 200, 300), (6, 48, 20), (70, 250, 1152)] {
      XCTAssertTrue(NeuralNetworkGEMM.isBlocked(m: m, n: n, k: k))
      let a = (0..<(m * k)).map { _ in 1.37 * numbers.next() }
      let b = (0..<(k * n)).map { _ in 0.91 * numbers.next() }
      let bias = (0..<m).map { _ in numbers.next() }
      let initial = (0..<(m * n)).map { _ in numbers.next() }
      for overwrite in [true, false] {
        let reference = product(a, b, bias, initial, m: m, n: n, k: k, overwrite: overwrite, threads: 1, packedB: false)
        for threads in [1, 2] {
          let packed = product(
            a, b, bias, initial, m: m, n: n, k: k, overwrite: overwrite, threads: threads, packedB: true)
          XCTAssertEqual(
            packed.map(\.bitPattern), reference.map(\.bitPattern),
            "m \(m), n \(n), k \(k), overwrite \(overwrite), threads \(threads)")
        }
      }
    }
  }

  /// `GEMMStart.overwrite` against filling C with the start values then accumulating, through
  /// the direct loops (small products), the column split (two threads, small A) and the row and
  /// column split (A over `columnSplitLimit`), with and without start values.
  func testOverwriteEqualsFillThenAccumulateOnEveryPath() {
    var numbers = SeededFloats(state: 33)
    for (m, n, k, threads) in [(5, 7, 9, 1), (2, 40, 30, 1), (50, 300, 600, 2), (40, 300, 700, 1), (1100, 40, 1000, 2)]
    {
      let a = (0..<(m * k)).map { _ in 1.37 * numbers.next() }
      let b = (0..<(k * n)).map { _ in 0.91 * numbers.next() }
      for bias in [(0..<m).map { _ in numbers.next() }, nil] {
        var filled = (0..<(m * n)).map { bias?[$0 / n] ?? 0 }
        var written = [Float](repeating: .nan, count: m * n)
        a.withUnsafeBufferPointer { pa in
          b.withUnsafeBufferPointer { pb in
            guard let baseA = pa.baseAddress, let baseB = pb.baseAddress else { return }
            let matrixA = NeuralNetworkMatrix(baseA, rowStride: k)
            let matrixB = NeuralNetworkMatrix(baseB, rowStride: n)
            filled.withUnsafeMutableBufferPointer { pc in
              guard let c = pc.baseAddress else { return }
              NeuralNetworkGEMM.multiply(m: m, n: n, k: k, a: matrixA, b: matrixB, c: c, ldc: n, threads: threads)
            }
            written.withUnsafeMutableBufferPointer { pc in
              guard let c = pc.baseAddress else { return }
              (bias ?? []).withUnsafeBufferPointer { start in
                NeuralNetworkGEMM.multiply(
                  m: m, n: n, k: k, a: matrixA, b: matrixB, c: c, ldc: n, threads: threads,
                  start: .overwrite(bias == nil ? nil : start.baseAddress))
              }
            }
          }
        }
        XCTAssertEqual(
          written.map(\.bitPattern), filled.map(\.bitPattern), "m \(m), n \(n), k \(k), bias \(bias != nil)")
      }
    }
  }

  /// C (m x n, row stride n + 3) after a product of A and B starting from `initial` (or the
  /// start values `bias` when `overwrite`), through `multiply` or, with `packedB`, through B
  /// packed in `NeuralNetworkPackedB`'s layout and `multiplyPacked`.
  private func product(
    _ a: [Float], _ b: [Float], _ bias: [Float], _ initial: [Float], m: Int, n: Int, k: Int, overwrite: Bool,
    threads: Int, packedB: Bool
  ) -> [Float] {
    let ldc = n + 3
    var c = [Float](repeating: .nan, count: m * ldc)
    if !overwrite {
      for i in 0..<m { for j in 0..<n { c[i * ldc + j] = initial[i * n + j] } }
    }
    let layout = NeuralNetworkPackedB(k: k, n: n)
    var packed = [Float](repeating: .nan, count: layout.count)
    for p in 0..<k {
      for j in 0..<(layout.sliverCount * NeuralNetworkGEMM.nr) {
        let offset = layout.rowOffset(p) + j / NeuralNetworkGEMM.nr * layout.sliverStride(p) + j % NeuralNetworkGEMM.nr
        packed[offset] = j < n ? b[p * n + j] : 0
      }
    }
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        bias.withUnsafeBufferPointer { pbias in
          packed.withUnsafeBufferPointer { ppacked in
            c.withUnsafeMutableBufferPointer { pc in
              guard let baseA = pa.baseAddress, let baseB = pb.baseAddress, let baseC = pc.baseAddress,
                let basePacked = ppacked.baseAddress
              else { return }
              let matrixA = NeuralNetworkMatrix(baseA, rowStride: k)
              let start: GEMMStart = overwrite ? .overwrite(pbias.baseAddress) : .accumulate
              if packedB {
                NeuralNetworkGEMM.multiplyPacked(
                  m: m, a: NeuralNetworkPackedA(matrixA, m: m, k: k), b: basePacked, layout: layout, c: baseC,
                  ldc: ldc, threads: threads, start: start)
              } else {
                NeuralNetworkGEMM.multiply(
                  m: m, n: n, k: k, a: matrixA, b: NeuralNetworkMatrix(baseB, rowStride: n), c: baseC, ldc: ldc,
                  threads: threads, start: start)
              }
            }
          }
        }
      }
    }
    return (0..<m).flatMap { i in c[(i * ldc)..<(i * ldc + n)] }
  }
}
