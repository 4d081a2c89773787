import CIntegerKernels
import Foundation
import XCTest

/// The u8 x s8 panel product at every instruction level this CPU runs (`qat_u8s8_set_level`:
/// portable, AVX2 vpmaddubsw, AVX-VNNI and AVX512-VNNI vpdpbusd) against the exact sum
/// `sum_k (a - aZero) * (b - bZero)` computed in Int64 and wrapped to int32, bit for bit, and the
/// levels against each other: seeded random shapes with m, k, n in 1...80 (K not a multiple of
/// four, rows past a tile, columns past a panel), zero points at their extremes (B 0 and 255, int8
/// A -128 and 127, uint8 A 0 and 255), A's values `a - aZero` over the whole int8 range at the VNNI
/// levels (-128 and 127 always present) and over [-64, 64] at all levels, a K long enough for the
/// int32 sums to wrap, and the fused requantization (both modes, int8 and uint8 outputs) against
/// the int32 product requantized by `qat_requantize_int8`. A's packing must accept exactly the
/// values its level multiplies exactly. The VNNI tests skip on CPUs without VNNI.
final class IntegerGEMMVNNITests: XCTestCase {
  override func tearDown() {
    qat_u8s8_set_level(-1)
    super.tearDown()
  }

  /// One product's operands: A (m x k bytes, int8 when `aSigned`) with one zero point per row, B
  /// (k x n uint8) with one zero point per column.
  private struct Operands {
    let m: Int
    let k: Int
    let n: Int
    let aSigned: Bool
    var a: [UInt8]
    var aZero: [Int32]
    var b: [UInt8]
    var bZero: [Int32]

    /// `a - aZero` of row `row`, element `inner`.
    func aValue(_ row: Int, _ inner: Int) -> Int32 {
      let byte = a[row * k + inner]
      return (aSigned ? Int32(Int8(bitPattern: byte)) : Int32(byte)) - aZero[row]
    }
  }

  /// Random operands whose `a - aZero` lie in `range` (a subrange of [-128, 127]): zero points at
  /// the type's extremes or random (clamped so that some value of the type lies in range of them),
  /// every row holding the lowest and highest value it can reach, and the last row (zero point 0
  /// for int8, 128 for uint8) both ends of `range`; B's bytes random, with 0 and 255 among them.
  private func operands(
    m: Int, k: Int, n: Int, aSigned: Bool, range: ClosedRange<Int32>, using random: inout SplitMix
  ) -> Operands {
    let raw: ClosedRange<Int32> = aSigned ? -128...127 : 0...255
    let extremes: [Int32] = aSigned ? [-128, 127] : [0, 255]
    let aZero = (0..<m).map { row -> Int32 in
      if row == m - 1 { return aSigned ? 0 : 128 }
      let candidate = row < extremes.count ? extremes[row] : Int32.random(in: raw, using: &random)
      return Swift.min(Swift.max(candidate, raw.lowerBound - range.upperBound), raw.upperBound - range.lowerBound)
    }
    var a = [UInt8](repeating: 0, count: m * k)
    for row in 0..<m {
      let low = Swift.max(raw.lowerBound, aZero[row] + range.lowerBound)
      let high = Swift.min(raw.upperBound, aZero[row] + range.upperBound)
      for inner in 0..<k {
        let value: Int32
        switch inner % 7 {
        case 0: value = low
        case 1: value = high
        default: value = Int32.random(in: low...high, using: &random)
        }
        a[row * k + inner] = aSigned ? UInt8(bitPattern: Int8(value)) : UInt8(value)
      }
    }
    return Operands(
      m: m, k: k, n: n, aSigned: aSigned, a: a, aZero: aZero, b: bytesB(k: k, n: n, using: &random),
      bZero: zerosB(n, using: &random))
  }

  private func bytesB(k: Int, n: Int, using random: inout SplitMix) -> [UInt8] {
    (0..<(k * n)).map { index in
      switch index % 11 {
      case 0: return 255
      case 1: return 0
      default: return UInt8.random(in: 0...255, using: &random)
      }
    }
  }

  private func zerosB(_ n: Int, using random: inout SplitMix) -> [Int32] {
    (0..<n).map { column in
      switch column % 4 {
      case 0: return 0
      case 1: return 255
      default: return Int32.random(in: 0...255, using: &random)
      }
    }
  }

  /// Asserts `actual == expected`, naming the first difference (row and column of an `n`-wide
  /// matrix) rather than printing both arrays.
  private func assertSame<T: Equatable>(
    _ actual: [T], _ expected: [T], n: Int, _ message: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
    guard actual.count == expected.count, let index = actual.indices.first(where: { actual[$0] != expected[$0] })
    else { return }
    let differences = zip(actual, expected).filter { $0 != $1 }.count
    XCTFail(
      "\(message): \(differences) differ, first at row \(index / n) column \(index % n): \(actual[index]) instead of "
        + "\(expected[index])", file: file, line: line)
  }

  /// `sum_k (a - aZero) * (b - bZero)` in Int64, wrapped to int32.
  private func reference(_ o: Operands) -> [Int32] {
    var c = [Int32](repeating: 0, count: o.m * o.n)
    for row in 0..<o.m {
      for column in 0..<o.n {
        var sum: Int64 = 0
        for inner in 0..<o.k {
          sum += Int64(o.aValue(row, inner)) * Int64(Int32(o.b[inner * o.n + column]) - o.bZero[column])
        }
        c[row * o.n + column] = Int32(truncatingIfNeeded: sum)
      }
    }
    return c
  }

  /// A packed for the current level: the packing, the row sums and whether it fits.
  private func packA(_ o: Operands) -> ([Int8], [Int32], Bool) {
    let (m32, k32) = (Int32(o.m), Int32(o.k))
    var packed = [Int8](repeating: 0x55, count: qat_packed_a_quads_count(m32, k32))
    var sums = [Int32](repeating: 0, count: o.m)
    let fits = o.a.withUnsafeBytes { a in
      o.aZero.withUnsafeBufferPointer { zero in
        packed.withUnsafeMutableBufferPointer { target in
          sums.withUnsafeMutableBufferPointer { rowSums in
            qat_pack_a_quads(
              a.baseAddress, o.aSigned ? 1 : 0, o.k, m32, k32, zero.baseAddress, 1, target.baseAddress,
              rowSums.baseAddress)
          }
        }
      }
    }
    return (packed, sums, fits != 0)
  }

  /// The product at the current level, panel by panel: int32 results, or bytes requantized with
  /// `rows` (one per row of A) when given.
  private func product(_ o: Operands, rows: [qat_requantization]? = nil, outputSigned: Bool = false) -> (
    [Int32], [UInt8], Bool
  ) {
    let (packed, sums, fits) = packA(o)
    let (m32, k32, n32) = (Int32(o.m), Int32(o.k), Int32(o.n))
    var c = [Int32](repeating: 0x1234_5678, count: o.m * o.n)
    var bytes = [UInt8](repeating: 0xA5, count: o.m * o.n)
    var panel = [UInt8](repeating: 0x77, count: qat_packed_quad_panel_count(k32))
    let panels = (o.n + Int(QAT_PANEL_COLUMNS) - 1) / Int(QAT_PANEL_COLUMNS)
    for index in 0..<panels {
      o.b.withUnsafeBufferPointer { b in
        panel.withUnsafeMutableBufferPointer { target in
          qat_pack_b_panel_u8(b.baseAddress, o.n, k32, n32, Int32(index), target.baseAddress)
        }
      }
      packed.withUnsafeBufferPointer { a in
        sums.withUnsafeBufferPointer { rowSums in
          panel.withUnsafeBufferPointer { p in
            o.bZero.withUnsafeBufferPointer { zero in
              if let rows {
                rows.withUnsafeBufferPointer { parameters in
                  bytes.withUnsafeMutableBufferPointer { out in
                    qat_gemm_panel_u8s8_requantized(
                      a.baseAddress, rowSums.baseAddress, p.baseAddress, m32, k32, n32, Int32(index),
                      zero.baseAddress, 1, parameters.baseAddress, outputSigned ? 1 : 0, out.baseAddress, o.n)
                  }
                }
              } else {
                c.withUnsafeMutableBufferPointer { target in
                  qat_gemm_panel_u8s8(
                    a.baseAddress, rowSums.baseAddress, p.baseAddress, m32, k32, n32, Int32(index),
                    zero.baseAddress, 1, target.baseAddress, o.n)
                }
              }
            }
          }
        }
      }
    }
    return (c, bytes, fits)
  }

  /// The levels this CPU runs, lowest first.
  private var levels: [Int32] {
    let best = qat_u8s8_set_level(-1)
    return Array(Int32(QAT_U8S8_PORTABLE)...best)
  }

  /// Skips unless the CPU runs `level`.
  private func require(_ level: Int32) throws {
    guard qat_u8s8_set_level(-1) >= level else {
      throw XCTSkip(
        "this CPU lacks \(level == QAT_U8S8_AVX512_VNNI ? "AVX512-VNNI (with AVX512F/BW/VL)" : "AVX-VNNI")")
    }
  }

  /// Shapes: the edges (1, multiples of 4 and 16 and one past them) and seeded random ones.
  private func shapes(using random: inout SplitMix) -> [(Int, Int, Int)] {
    var list = [
      (1, 1, 1), (4, 4, 16), (5, 3, 17), (8, 16, 16), (9, 5, 33), (3, 80, 80), (80, 79, 15), (12, 65, 31),
      (7, 2, 48), (16, 36, 64), (13, 77, 1),
    ]
    for _ in 0..<14 {
      list.append(
        (
          Int.random(in: 1...80, using: &random), Int.random(in: 1...80, using: &random),
          Int.random(in: 1...80, using: &random)
        ))
    }
    return list
  }

  /// Every level at or above `lowest` on operands with `a - aZero` in `range`: packing accepts
  /// them, and the product equals the reference.
  private func checkLevels(from lowest: Int32, range: ClosedRange<Int32>, seed: UInt64) {
    var random = SplitMix(seed: seed)
    for (m, k, n) in shapes(using: &random) {
      for aSigned in [true, false] {
        let o = operands(m: m, k: k, n: n, aSigned: aSigned, range: range, using: &random)
        let expected = reference(o)
        for level in levels where level >= lowest {
          XCTAssertEqual(qat_u8s8_set_level(level), level)
          let (actual, _, fits) = product(o)
          XCTAssertTrue(fits, "level \(level) m \(m) k \(k) n \(n): packing declined a' in \(range)")
          assertSame(actual, expected, n: n, "level \(level) m \(m) k \(k) n \(n) signed \(aSigned) range \(range)")
        }
      }
    }
  }

  /// 7-bit weights: all levels (portable, AVX2 and the VNNI ones present) give the reference's bits.
  func testNarrowWeightsAtEveryLevel() {
    checkLevels(from: Int32(QAT_U8S8_PORTABLE), range: -64...64, seed: 1)
  }

  /// Full 8-bit weights with AVX-VNNI, -128 and 127 included.
  func testFullRangeWeightsWithAVXVNNI() throws {
    try require(Int32(QAT_U8S8_AVX_VNNI))
    checkLevels(from: Int32(QAT_U8S8_AVX_VNNI), range: -128...127, seed: 2)
    var random = SplitMix(seed: 3)
    for range: ClosedRange<Int32> in [-128...(-128), 127...127, -128...(-100), 100...127] {
      let o = operands(m: 9, k: 37, n: 21, aSigned: true, range: range, using: &random)
      qat_u8s8_set_level(Int32(QAT_U8S8_AVX_VNNI))
      assertSame(product(o).0, reference(o), n: 21, "range \(range)")
    }
  }

  /// Full 8-bit weights with AVX512-VNNI, every row count 1...20 (whole and partial zmm tiles).
  func testFullRangeWeightsWithAVX512VNNI() throws {
    try require(Int32(QAT_U8S8_AVX512_VNNI))
    checkLevels(from: Int32(QAT_U8S8_AVX512_VNNI), range: -128...127, seed: 4)
    var random = SplitMix(seed: 5)
    qat_u8s8_set_level(Int32(QAT_U8S8_AVX512_VNNI))
    for m in 1...20 {
      let o = operands(m: m, k: 23, n: 35, aSigned: m % 2 == 0, range: -128...127, using: &random)
      assertSame(product(o).0, reference(o), n: 35, "m \(m)")
    }
  }

  /// Packing accepts a' in [-64, 64] below the VNNI levels and [-128, 127] at them, and nothing
  /// wider: a' = 65, -65, 128 (uint8 255 with zero point 127) and -129 (int8 -128 with zero 1).
  func testPackingAcceptsWhatEachLevelMultipliesExactly() {
    let cases: [(aSigned: Bool, byte: Int32, zero: Int32, value: Int32)] = [
      (true, 64, 0, 64), (true, -64, 0, -64), (true, 65, 0, 65), (true, -65, 0, -65), (true, 127, 0, 127),
      (true, -128, 0, -128), (false, 255, 127, 128), (true, -128, 1, -129), (false, 0, 128, -128),
      (false, 255, 128, 127),
    ]
    for level in levels {
      qat_u8s8_set_level(level)
      let vnni = level >= QAT_U8S8_AVX_VNNI
      for item in cases {
        var a = [UInt8](repeating: item.aSigned ? 0 : UInt8(item.zero), count: 3 * 6)
        a[7] = item.aSigned ? UInt8(bitPattern: Int8(item.byte)) : UInt8(item.byte)
        let zeros: [Int32] = [item.aSigned ? 0 : item.zero, item.zero, item.aSigned ? 0 : item.zero]
        let o = Operands(
          m: 3, k: 6, n: 1, aSigned: item.aSigned, a: a, aZero: zeros, b: [1, 2, 3, 4, 5, 6], bZero: [0])
        XCTAssertEqual(o.aValue(1, 1), item.value)
        let expected = vnni ? (-128...127).contains(item.value) : (-64...64).contains(item.value)
        XCTAssertEqual(packA(o).2, expected, "level \(level) a' \(item.value)")
      }
    }
  }

  /// K large enough for the int32 sums and the zero-point term to wrap around: 140,003 products of
  /// -128 or -64 (or 127 or 64) by 255 exceed 2^31 in magnitude.
  func testWrapAroundAtEveryLevel() {
    let (m, k, n) = (5, 140_003, 17)
    var random = SplitMix(seed: 6)
    for level in levels {
      qat_u8s8_set_level(level)
      let range: ClosedRange<Int32> = level >= QAT_U8S8_AVX_VNNI ? -128...127 : -64...64
      var o = operands(m: m, k: k, n: n, aSigned: true, range: range, using: &random)
      for inner in 0..<k {
        o.a[inner] = UInt8(bitPattern: Int8(range.lowerBound))
        o.a[k + inner] = UInt8(bitPattern: Int8(range.upperBound))
        for column in 0..<n where column % 4 != 3 { o.b[inner * n + column] = 255 }
      }
      o.aZero[0] = 0
      o.aZero[1] = 0
      let expected = reference(o)
      let sums = (0..<k).reduce(Int64(0)) { $0 + Int64(o.aValue(0, $1)) * Int64(Int32(o.b[$1 * n]) - o.bZero[0]) }
      XCTAssertNotEqual(Int64(expected[0]), sums, "the test needs a wrapping sum")
      let (actual, _, fits) = product(o)
      XCTAssertTrue(fits)
      assertSame(actual, expected, n: n, "level \(level)")
    }
  }

  /// Per-row requantization parameters: float and fixed-point modes, clipped and full ranges.
  private func requantizations(_ m: Int, outputSigned: Bool, using random: inout SplitMix) -> [qat_requantization] {
    (0..<m).map { row in
      var r = qat_requantization()
      r.fixed_point = Int32(row % 2)
      r.scale = Float.random(in: 1e-4...0.02, using: &random)
      r.multiplier = Int32.random(in: (1 << 30)...Int32.max, using: &random)
      r.shift = Int32.random(in: -14...1, using: &random)
      r.bias = Int32.random(in: -40_000...40_000, using: &random)
      let (low, high): (Int32, Int32) = outputSigned ? (-128, 127) : (0, 255)
      r.zero_point = Int32.random(in: low...high, using: &random)
      r.minimum = row % 3 == 2 ? r.zero_point : low
      r.maximum = row % 5 == 4 ? Swift.min(high, r.zero_point + 20) : high
      return r
    }
  }

  /// `exact` (m x n int32) requantized row by row with `qat_requantize_int8` (AVX2).
  private func requantized(_ exact: [Int32], m: Int, n: Int, rows: [qat_requantization], outputSigned: Bool) -> [UInt8]
  {
    var expected = [UInt8](repeating: 0, count: m * n)
    for row in 0..<m {
      let ran = exact.withUnsafeBufferPointer { acc in
        expected.withUnsafeMutableBufferPointer { out in
          withUnsafePointer(to: rows[row]) { parameters in
            qat_requantize_int8(
              acc.baseAddress.map { $0 + row * n }, n, parameters, outputSigned ? 1 : 0,
              out.baseAddress.map { $0 + row * n })
          }
        }
      }
      XCTAssertEqual(ran, 1)
    }
    return expected
  }

  /// The fused requantizing store at each level equals the int32 product requantized row by row
  /// with `qat_requantize_int8` (which RequantizationVectorTests holds to the scalar reference).
  func testRequantizedStoreAtEveryLevel() throws {
    guard qat_u8s8_set_level(-1) >= QAT_U8S8_AVX2 else { throw XCTSkip("the fused requantization needs AVX2") }
    var random = SplitMix(seed: 7)
    for (m, k, n) in shapes(using: &random) {
      for outputSigned in [false, true] {
        let rows = requantizations(m, outputSigned: outputSigned, using: &random)
        for level in levels {
          qat_u8s8_set_level(level)
          let range: ClosedRange<Int32> = level >= QAT_U8S8_AVX_VNNI ? -128...127 : -64...64
          let o = operands(m: m, k: k, n: n, aSigned: outputSigned, range: range, using: &random)
          let expected = requantized(reference(o), m: m, n: n, rows: rows, outputSigned: outputSigned)
          let (_, actual, fits) = product(o, rows: rows, outputSigned: outputSigned)
          XCTAssertTrue(fits)
          assertSame(actual, expected, n: n, "level \(level) m \(m) k \(k) n \(n) signed \(outputSigned)")
        }
      }
    }
  }

  /// The fused requantization's rounding and clamping cases at each level: with k = 1 and a' = 1
  /// the products are `b - bZero` (every integer in [-255, 255] over B's bytes and zero points),
  /// and the parameters make ties (float scale 0.5 and 0.25; Q31 multiplier 2^30 with right shifts
  /// of 0 to 3, so remainders of exactly half), shift left, clip, and add biases near the int32
  /// extremes (wrapping) and NaN and infinite scales.
  func testRequantizedStoreTiesAndExtremes() throws {
    guard qat_u8s8_set_level(-1) >= QAT_U8S8_AVX2 else { throw XCTSkip("the fused requantization needs AVX2") }
    let n = 256
    var parameters: [(fixed: Bool, scale: Float, multiplier: Int32, shift: Int32, bias: Int32)] = []
    for bias: Int32 in [0, 1, -3, 1_000, .max - 100, .min + 100] {
      for scale: Float in [0.5, 0.25, 1, 3.5, 1e-9, .nan, .infinity, 1e9] {
        parameters.append((false, scale, 0, 0, bias))
      }
      for shift: Int32 in [0, -1, -2, -3, 2, -31] {
        for multiplier: Int32 in [1 << 30, (1 << 30) + 1, .max, 1_518_500_250] {
          parameters.append((true, 0, multiplier, shift, bias))
        }
      }
    }
    for outputSigned in [false, true] {
      let (low, high): (Int32, Int32) = outputSigned ? (-128, 127) : (0, 255)
      let rows = parameters.enumerated().map { index, p -> qat_requantization in
        var r = qat_requantization()
        r.fixed_point = p.fixed ? 1 : 0
        r.scale = p.scale
        r.multiplier = p.multiplier
        r.shift = p.shift
        r.bias = p.bias
        r.zero_point = [low, high, outputSigned ? 0 : 128, outputSigned ? -5 : 3][index % 4]
        r.minimum = index % 3 == 1 ? Swift.max(low, r.zero_point - 9) : low
        r.maximum = index % 5 == 2 ? Swift.min(high, r.zero_point + 9) : high
        return r
      }
      let m = rows.count
      let a = [UInt8](repeating: 1, count: m)  // a' = 1 with zero point 0
      let b = (0..<n).map { UInt8($0) }
      for bZero: Int32 in [0, 255, 128] {
        let o = Operands(
          m: m, k: 1, n: n, aSigned: true, a: a, aZero: [Int32](repeating: 0, count: m), b: b,
          bZero: [Int32](repeating: bZero, count: n))
        let expected = requantized(reference(o), m: m, n: n, rows: rows, outputSigned: outputSigned)
        for level in levels {
          qat_u8s8_set_level(level)
          let (_, actual, _) = product(o, rows: rows, outputSigned: outputSigned)
          assertSame(actual, expected, n: n, "level \(level) b zero \(bZero) signed \(outputSigned)")
        }
      }
    }
  }
}
