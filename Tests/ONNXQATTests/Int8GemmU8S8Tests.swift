import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The u8 x s8 path of Int8Gemm (vpmaddubsw on raw uint8 B and A's values within [-64, 64], B's
/// zero point removed through A's row sums) equals the plain Int32 loop bit for bit (exact int32
/// arithmetic, so exact comparisons): int8 and uint8 A, scalar and per-row/per-column zero points,
/// K not a multiple of four, tails of rows and columns, one to three threads, AVX2 and portable
/// loops, the extreme values +-64 by 255; and, below the VNNI levels, it declines (the int16-pair
/// path answers, equal too) when one value of A lies outside [-64, 64].
final class Int8GemmU8S8Tests: XCTestCase {
  /// A (m x k) whose values minus their row's zero point lie in [-64, 64], and the zero points.
  private func narrowA(
    m: Int, k: Int, signed: Bool, perRow: Bool, using random: inout SystemRandomNumberGenerator
  ) -> ([UInt8], [Int32]) {
    let zeros = (0..<(perRow ? m : 1)).map { _ in
      signed ? Int32.random(in: -60...60, using: &random) : Int32.random(in: 64...191, using: &random)
    }
    let bytes = (0..<(m * k)).map { index -> UInt8 in
      let value = zeros[perRow ? index / k : 0] + Int32.random(in: -64...64, using: &random)
      return signed ? UInt8(bitPattern: Int8(clamping: value)) : UInt8(clamping: value)
    }
    return (bytes, zeros)
  }

  /// `sum_k (a - aZero[m]) * (b - bZero[n])` one product at a time, with int32 wrap.
  private func reference(
    _ a: [UInt8], aSigned: Bool, _ aZero: [Int32], _ b: [UInt8], _ bZero: [Int32], m: Int, k: Int, n: Int
  ) -> [Int32] {
    var c = [Int32](repeating: 0, count: m * n)
    for row in 0..<m {
      for column in 0..<n {
        var sum: Int32 = 0
        for inner in 0..<k {
          let byte = a[row * k + inner]
          let av = (aSigned ? Int32(Int8(bitPattern: byte)) : Int32(byte)) &- aZero[aZero.count == 1 ? 0 : row]
          let bv = Int32(b[inner * n + column]) &- bZero[bZero.count == 1 ? 0 : column]
          sum = sum &+ av &* bv
        }
        c[row * n + column] = sum
      }
    }
    return c
  }

  /// Int8Gemm.multiply and whether the u8 x s8 path took it.
  private func product(
    _ a: [UInt8], aSigned: Bool, _ aZero: [Int32], _ b: [UInt8], _ bZero: [Int32], m: Int, k: Int, n: Int,
    threads: Int
  ) -> ([Int32], Bool) {
    var c = [Int32](repeating: 7, count: m * n)
    var taken = false
    a.withUnsafeBytes { pa in
      b.withUnsafeBytes { pb in
        c.withUnsafeMutableBufferPointer { pc in
          guard let aBase = pa.baseAddress, let bBase = pb.baseAddress, let cBase = pc.baseAddress else { return }
          let left = Int8Gemm.Operand(base: aBase, isSigned: aSigned, rowStride: k)
          let right = Int8Gemm.Operand(base: bBase, isSigned: false, rowStride: n)
          taken = Int8Gemm.multiplyU8S8(
            left, aZero: aZero, right, bZero: bZero, m: m, k: k, n: n, into: cBase, ldc: n, threads: threads)
          if !taken {
            Int8Gemm.multiply(
              left, aZero: aZero, right, bZero: bZero, m: m, k: k, n: n, into: cBase, ldc: n, threads: threads)
          }
        }
      }
    }
    return (c, taken)
  }

  func testNarrowWeightsEqualTheReferenceLoop() {
    var random = SystemRandomNumberGenerator()
    let shapes = [
      (1, 1, 1), (1, 9, 37), (3, 5, 17), (4, 3, 16), (5, 17, 15), (7, 33, 33), (13, 147, 47), (64, 32, 300),
    ]
    for portable in [false, true] {
      qat_u8s8_set_portable(portable ? 1 : 0)
      defer { qat_u8s8_set_portable(0) }
      for (m, k, n) in shapes {
        for aSigned in [true, false] {
          for perChannel in [false, true] {
            let (a, aZero) = narrowA(m: m, k: k, signed: aSigned, perRow: perChannel, using: &random)
            let b = (0..<(k * n)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let bZero = (0..<(perChannel ? n : 1)).map { _ in Int32.random(in: 0...255, using: &random) }
            let expected = reference(a, aSigned: aSigned, aZero, b, bZero, m: m, k: k, n: n)
            for threads in [1, 2, 3] {
              let (actual, taken) = product(a, aSigned: aSigned, aZero, b, bZero, m: m, k: k, n: n, threads: threads)
              XCTAssertTrue(taken, "m \(m) k \(k) n \(n): the u8 x s8 path declined narrow weights")
              XCTAssertEqual(
                actual, expected,
                "m \(m) k \(k) n \(n) signed \(aSigned) per-channel \(perChannel) threads \(threads) portable \(portable)"
              )
            }
          }
        }
      }
    }
  }

  /// Every pair at the largest magnitude the path accepts: 255 * 64 twice per int16 pair sum.
  func testExtremeValuesDoNotSaturate() {
    let (m, k, n) = (6, 64, 20)
    for aByte: Int8 in [64, -64] {
      let a = [UInt8](repeating: UInt8(bitPattern: aByte), count: m * k)
      let b = [UInt8](repeating: 255, count: k * n)
      let expected = reference(a, aSigned: true, [0], b, [0], m: m, k: k, n: n)
      XCTAssertEqual(expected[0], Int32(aByte) * 255 * Int32(k))
      for portable in [false, true] {
        qat_u8s8_set_portable(portable ? 1 : 0)
        defer { qat_u8s8_set_portable(0) }
        let (actual, taken) = product(a, aSigned: true, [0], b, [0], m: m, k: k, n: n, threads: 1)
        XCTAssertTrue(taken)
        XCTAssertEqual(actual, expected, "a \(aByte) portable \(portable)")
      }
    }
  }

  /// One value of A at 65 from its zero point: below the VNNI levels (forced to AVX2 here) the path
  /// declines and the int16-pair path answers. (IntegerGEMMVNNITests covers the VNNI levels.)
  func testOneWideWeightFallsBackToPairs() {
    qat_u8s8_set_level(Int32(QAT_U8S8_AVX2))
    defer { qat_u8s8_set_level(-1) }
    var random = SystemRandomNumberGenerator()
    let (m, k, n) = (5, 21, 18)
    var (a, aZero) = narrowA(m: m, k: k, signed: true, perRow: false, using: &random)
    a[m * k / 2] = UInt8(bitPattern: Int8(clamping: aZero[0] + (aZero[0] > 0 ? -65 : 65)))
    let b = (0..<(k * n)).map { _ in UInt8.random(in: 0...255, using: &random) }
    let expected = reference(a, aSigned: true, aZero, b, [131], m: m, k: k, n: n)
    let (actual, taken) = product(a, aSigned: true, aZero, b, [131], m: m, k: k, n: n, threads: 2)
    XCTAssertFalse(taken)
    XCTAssertEqual(actual, expected)
  }
}
