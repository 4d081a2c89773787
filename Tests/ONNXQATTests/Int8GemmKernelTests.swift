import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The exact 8-bit GEMM (Int8Gemm: int16 pairs packed with the zero points subtracted, vpmaddwd
/// into int32) equals the plain Int32 triple loop bit for bit: every signedness pair, scalar and
/// per-row/per-column zero points, odd K, tails of rows and columns, one to three threads, and
/// the int32 wrap-around of a very deep product.
final class Int8GemmKernelTests: XCTestCase {
  /// Random bytes of one signedness as an Int8Gemm operand's storage, and their Int32 values.
  private func bytes(
    _ count: Int, signed: Bool, using generator: inout SystemRandomNumberGenerator
  ) -> ([UInt8], [Int32]) {
    let raw = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    return (raw, raw.map { signed ? Int32(Int8(bitPattern: $0)) : Int32($0) })
  }

  /// The reference: zero points subtracted in Int32, then IntegerGemm.referenceMultiply.
  private func reference(
    _ a: [Int32], _ aZero: [Int32], _ b: [Int32], _ bZero: [Int32], m: Int, k: Int, n: Int
  ) -> [Int32] {
    let aShifted = (0..<(m * k)).map { a[$0] &- aZero[aZero.count == 1 ? 0 : $0 / k] }
    let bShifted = (0..<(k * n)).map { b[$0] &- bZero[bZero.count == 1 ? 0 : $0 % n] }
    var c = [Int32](repeating: 0, count: m * n)
    aShifted.withUnsafeBufferPointer { pa in
      bShifted.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          guard let a = pa.baseAddress, let b = pb.baseAddress, let c = pc.baseAddress else { return }
          IntegerGemm.referenceMultiply(a, b, c, m: m, k: k, n: n)
        }
      }
    }
    return c
  }

  private func product(
    _ a: [UInt8], aSigned: Bool, aZero: [Int32], _ b: [UInt8], bSigned: Bool, bZero: [Int32], m: Int, k: Int, n: Int,
    threads: Int
  ) -> [Int32] {
    var c = [Int32](repeating: 7, count: m * n)
    a.withUnsafeBytes { pa in
      b.withUnsafeBytes { pb in
        c.withUnsafeMutableBufferPointer { pc in
          guard let aBase = pa.baseAddress, let bBase = pb.baseAddress, let cBase = pc.baseAddress else { return }
          Int8Gemm.multiply(
            Int8Gemm.Operand(base: aBase, isSigned: aSigned, rowStride: k), aZero: aZero,
            Int8Gemm.Operand(base: bBase, isSigned: bSigned, rowStride: n), bZero: bZero, m: m, k: k, n: n,
            into: cBase, ldc: n, threads: threads)
        }
      }
    }
    return c
  }

  func testProductEqualsReferenceLoop() {
    var generator = SystemRandomNumberGenerator()
    let shapes = [
      (1, 1, 1), (1, 9, 37), (2, 5, 17), (5, 3, 16), (6, 17, 15), (7, 33, 33), (13, 147, 47), (64, 576, 300),
      (12, 1101, 40), (64, 27, 3136),
    ]
    for (m, k, n) in shapes {
      for (aSigned, bSigned) in [(true, false), (true, true), (false, false), (false, true)] {
        let (aBytes, aValues) = bytes(m * k, signed: aSigned, using: &generator)
        let (bBytes, bValues) = bytes(k * n, signed: bSigned, using: &generator)
        let aRange: ClosedRange<Int32> = aSigned ? -128...127 : 0...255
        let bRange: ClosedRange<Int32> = bSigned ? -128...127 : 0...255
        for perChannel in [false, true] {
          let aZero = (0..<(perChannel ? m : 1)).map { _ in Int32.random(in: aRange, using: &generator) }
          let bZero = (0..<(perChannel ? n : 1)).map { _ in Int32.random(in: bRange, using: &generator) }
          let expected = reference(aValues, aZero, bValues, bZero, m: m, k: k, n: n)
          for threads in [1, 2, 3] {
            let actual = product(
              aBytes, aSigned: aSigned, aZero: aZero, bBytes, bSigned: bSigned, bZero: bZero, m: m, k: k, n: n,
              threads: threads)
            XCTAssertEqual(
              actual, expected,
              "m \(m) k \(k) n \(n) signed \(aSigned)/\(bSigned) per-channel \(perChannel) threads \(threads)")
          }
        }
      }
    }
  }

  /// The portable C loops (machines without AVX2) give the same bits as the reference.
  func testPortableLoopsEqualReferenceLoop() {
    qat_set_portable(1)
    defer { qat_set_portable(0) }
    var generator = SystemRandomNumberGenerator()
    for (m, k, n) in [(1, 1, 1), (7, 33, 33), (13, 147, 47), (64, 27, 100)] {
      let (aBytes, aValues) = bytes(m * k, signed: true, using: &generator)
      let (bBytes, bValues) = bytes(k * n, signed: false, using: &generator)
      let aZero = (0..<m).map { _ in Int32.random(in: -128...127, using: &generator) }
      let expected = reference(aValues, aZero, bValues, [131], m: m, k: k, n: n)
      let actual = product(
        aBytes, aSigned: true, aZero: aZero, bBytes, bSigned: false, bZero: [131], m: m, k: k, n: n, threads: 2)
      XCTAssertEqual(actual, expected, "m \(m) k \(k) n \(n)")
    }
  }

  /// 40,000 products of 255 * -255 sum to -2.6e9, which wraps in int32 as in the reference.
  func testDeepProductWrapsLikeInt32() {
    let (m, k, n) = (1, 40_000, 1)
    let a = [UInt8](repeating: 255, count: k)
    let b = [UInt8](repeating: 0, count: k)  // uint8 0 minus zero point 255: -255
    let expected = reference(
      a.map(Int32.init), [0], b.map(Int32.init), [255], m: m, k: k, n: n)
    XCTAssertLessThan(Int64(255) * -255 * Int64(k), Int64(Int32.min))
    let actual = product(a, aSigned: false, aZero: [0], b, bSigned: false, bZero: [255], m: m, k: k, n: n, threads: 1)
    XCTAssertEqual(actual, expected)
  }
}
