import Foundation
import XCTest

@testable import ONNXQAT

/// The `finish` callbacks of the float GEMM (`NeuralNetworkGEMM.multiply` and `multiplyPacked`),
/// through which a Conv applies its fused epilogue on the threads that computed the columns:
/// the ranges cover every column exactly once, and when a range is reported its columns already
/// hold their final values in every row (a copy taken inside the callback equals the finished
/// product bit for bit). Shapes take each path: direct loops, the column split on two threads,
/// the row-and-column split (A larger than `columnSplitLimit`), and the packed product on one and
/// two threads.
final class GEMMFinishTests: XCTestCase {
  /// Records the reported ranges and a copy of their columns (callbacks come from several threads).
  private final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var ranges: [Range<Int>] = []
    private(set) var copies: [Int: [UInt32]] = [:]

    func add(_ range: Range<Int>, _ c: UnsafeMutablePointer<Float>, m: Int, ldc: Int) {
      var copy: [UInt32] = []
      for i in 0..<m {
        for j in range { copy.append(c[i * ldc + j].bitPattern) }
      }
      lock.lock()
      ranges.append(range)
      copies[range.lowerBound] = copy
      lock.unlock()
    }
  }

  private func check(_ reports: Reports, _ c: [Float], m: Int, n: Int, _ label: String) {
    let sorted = reports.ranges.sorted { $0.lowerBound < $1.lowerBound }
    var next = 0
    for range in sorted {
      XCTAssertEqual(range.lowerBound, next, "\(label): ranges \(sorted) leave a gap or overlap")
      next = range.upperBound
      var final: [UInt32] = []
      for i in 0..<m {
        for j in range { final.append(c[i * n + j].bitPattern) }
      }
      XCTAssertEqual(reports.copies[range.lowerBound], final, "\(label): columns \(range) changed after finish")
    }
    XCTAssertEqual(next, n, "\(label): ranges \(sorted) do not end at \(n)")
  }

  func testFinishCoversEveryColumnOnceWithFinalValues() {
    var numbers = SeededFloats(state: 51)
    // (m, n, k, threads): direct, column split, row-and-column split (m * k > 2^20), one thread.
    for (m, n, k, threads) in [(2, 9, 5, 2), (64, 300, 200, 2), (1100, 20, 960, 2), (30, 100, 70, 1)] {
      let a = (0..<(m * k)).map { _ in numbers.next() }
      let b = (0..<(k * n)).map { _ in numbers.next() }
      let bias = (0..<m).map { _ in numbers.next() }
      var c = [Float](repeating: .nan, count: m * n)
      let reports = Reports()
      a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          bias.withUnsafeBufferPointer { ps in
            c.withUnsafeMutableBufferPointer { pc in
              guard let a0 = pa.baseAddress, let b0 = pb.baseAddress, let c0 = pc.baseAddress else { return }
              NeuralNetworkGEMM.multiply(
                m: m, n: n, k: k, a: NeuralNetworkMatrix(a0, rowStride: k), b: NeuralNetworkMatrix(b0, rowStride: n),
                c: c0, ldc: n, threads: threads, start: .overwrite(ps.baseAddress),
                finish: { reports.add($0, c0, m: m, ldc: n) })
            }
          }
        }
      }
      check(reports, c, m: m, n: n, "multiply \((m, n, k, threads))")
    }
  }

  func testPackedFinishCoversEveryColumnOnceWithFinalValues() {
    var numbers = SeededFloats(state: 52)
    for (m, n, k, threads) in [(64, 250, 147, 2), (13, 37, 576, 2), (32, 200, 27, 1)] {
      let a = (0..<(m * k)).map { _ in numbers.next() }
      let b = (0..<(k * n)).map { _ in numbers.next() }
      let layout = NeuralNetworkPackedB(k: k, n: n)
      var packedB = [Float](repeating: 0, count: layout.count)
      for p in 0..<k {
        for j in 0..<n {
          packedB[layout.rowOffset(p) + j / NeuralNetworkGEMM.nr * layout.sliverStride(p) + j % NeuralNetworkGEMM.nr] =
            b[p * n + j]
        }
      }
      var c = [Float](repeating: .nan, count: m * n)
      let reports = Reports()
      a.withUnsafeBufferPointer { pa in
        packedB.withUnsafeBufferPointer { pb in
          c.withUnsafeMutableBufferPointer { pc in
            guard let a0 = pa.baseAddress, let b0 = pb.baseAddress, let c0 = pc.baseAddress else { return }
            let packedA = NeuralNetworkPackedA(NeuralNetworkMatrix(a0, rowStride: k), m: m, k: k)
            NeuralNetworkGEMM.multiplyPacked(
              m: m, a: packedA, b: b0, layout: layout, c: c0, ldc: n, threads: threads, start: .overwrite(nil),
              finish: { reports.add($0, c0, m: m, ldc: n) })
          }
        }
      }
      check(reports, c, m: m, n: n, "multiplyPacked \((m, n, k, threads))")
    }
  }
}
