import CIntegerKernels
import Foundation
import XCTest

/// The 8-bit depthwise plane kernel at every level this CPU runs (`qat_depthwise_int8_set_level`:
/// portable, AVX2 vpmaddwd, AVX512-VNNI zmm vpdpwssd, AVX512-VNNI vpdpbusd on the bytes) against
/// the tap-by-tap int32 loop, bit for bit: strides 1 (the zmm loop), 2 and 3, dilations, pads,
/// output widths around the steps of 16, 32 and 64 (narrower rows go through the staging row or
/// masks, wider ones move their last step back), int8 and uint8 operands at their extremes, and
/// deep planes whose sums wrap around int32. The byte path gets its own cases (weights
/// `w - w_zero` in [-128, 127], which it needs), each checked to take it.
final class IntegerDepthwiseLevelTests: XCTestCase {
  override func tearDown() {
    qat_depthwise_int8_set_level(-1)
    super.tearDown()
  }

  /// One plane's operands (raw bytes, signedness, zero points) and geometry.
  private struct Case {
    var x: [UInt8]
    var w: [UInt8]
    var xSigned: Bool
    var wSigned: Bool
    var xZero: Int32
    var wZero: Int32
    var g: qat_depthwise_geometry
  }

  /// The stated semantics (Int8DepthwiseReference).
  private func reference(_ c: Case) -> [Int32] {
    Int8DepthwiseReference.sums(
      x: c.x, xSigned: c.xSigned, xZero: c.xZero, w: c.w, wSigned: c.wSigned, wZero: c.wZero, geometry: c.g)
  }

  /// The kernel's output at the current level (every element preset to a marker).
  private func kernel(_ c: Case) -> [Int32] {
    var g = c.g
    var y = [Int32](repeating: 0x5A5A_5A5A, count: Int(g.out_h) * Int(g.out_w))
    var scratch = [UInt8](repeating: 0xEE, count: qat_depthwise_int8_scratch_bytes(&g))
    c.x.withUnsafeBytes { x in
      c.w.withUnsafeBytes { w in
        y.withUnsafeMutableBufferPointer { out in
          scratch.withUnsafeMutableBytes { s in
            qat_depthwise_plane_int8(
              x.baseAddress, c.xSigned ? 1 : 0, c.xZero, w.baseAddress, c.wSigned ? 1 : 0, c.wZero, out.baseAddress,
              &g, s.baseAddress)
          }
        }
      }
    }
    return y
  }

  /// The levels this CPU runs, lowest first (AVX-VNNI is the AVX2 loops here, so left out).
  private var levels: [Int32] {
    let best = qat_depthwise_int8_set_level(-1)
    return [
      Int32(QAT_U8S8_PORTABLE), Int32(QAT_U8S8_AVX2), Int32(QAT_U8S8_AVX512_VNNI), Int32(QAT_DEPTHWISE_INT8_VNNI_BYTES),
    ].filter { $0 <= best }
  }

  /// True when `c` goes through the byte path at QAT_DEPTHWISE_INT8_VNNI_BYTES.
  private func takesBytePath(_ c: Case) -> Bool {
    var g = c.g
    return c.w.withUnsafeBytes { w in
      qat_depthwise_int8_bytes_accepts(c.xSigned ? 1 : 0, c.xZero, w.baseAddress, c.wSigned ? 1 : 0, c.wZero, &g) != 0
    }
  }

  /// Asserts equal arrays, naming the first difference instead of printing them.
  private func assertSame(_ actual: [Int32], _ expected: [Int32], width: Int, _ message: String) {
    XCTAssertEqual(actual.count, expected.count, message)
    guard actual.count == expected.count, let index = actual.indices.first(where: { actual[$0] != expected[$0] })
    else { return }
    let differences = actual.indices.filter { actual[$0] != expected[$0] }.count
    XCTFail(
      "\(message): \(differences) differ, first at row \(index / width) column \(index % width): \(actual[index]) "
        + "instead of \(expected[index])")
  }

  private func randomCase(
    _ g: qat_depthwise_geometry, xSigned: Bool, wSigned: Bool, using random: inout SplitMix
  ) -> Case {
    let zeros: [Int32] = xSigned ? [-128, 127, 0] : [0, 255, 128]
    let wZeros: [Int32] = wSigned ? [-128, 127, 3] : [0, 255, 131]
    let x = (0..<(Int(g.in_h) * Int(g.in_w))).map { index -> UInt8 in
      index % 13 == 0 ? 0 : index % 13 == 1 ? 255 : index % 13 == 2 ? 128 : UInt8.random(in: 0...255, using: &random)
    }
    let w = (0..<(Int(g.kernel_h) * Int(g.kernel_w))).map { index -> UInt8 in
      index % 5 == 0 ? 0x80 : index % 5 == 1 ? 0x7F : UInt8.random(in: 0...255, using: &random)
    }
    return Case(
      x: x, w: w, xSigned: xSigned, wSigned: wSigned, xZero: zeros.randomElement(using: &random) ?? 0,
      wZero: wZeros.randomElement(using: &random) ?? 0, g: g)
  }

  func testEveryLevelEqualsTheTapByTapLoop() {
    var random = SplitMix(seed: 11)
    var cases: [qat_depthwise_geometry] = []
    for width in [1, 2, 7, 14, 15, 16, 17, 28, 31, 32, 33, 34, 47, 56, 63, 64, 65, 70] {
      for (stride, kernel, dilation, pads) in [
        (1, (3, 3), 1, (1, 1, 1, 1)), (2, (3, 3), 1, (1, 1, 1, 1)), (2, (3, 3), 1, (0, 0, 1, 1)),
        (1, (5, 5), 1, (2, 2, 2, 2)), (2, (5, 4), 1, (2, 1, 2, 2)), (1, (3, 3), 2, (2, 2, 2, 2)),
        (3, (3, 3), 1, (1, 1, 1, 1)), (1, (1, 1), 1, (0, 0, 0, 0)), (2, (2, 2), 1, (0, 0, 0, 0)),
        (1, (3, 2), 1, (0, 3, 0, 0)),
      ] {
        let height = [1, 3, 6, 9][width % 4]
        if let g = Int8DepthwiseReference.geometry(
          height: height, width: width, kernel: kernel, strides: (stride == 3 ? 2 : stride, stride),
          dilations: (1, dilation), pads: pads)
        {
          cases.append(g)
        }
      }
    }
    XCTAssertGreaterThan(cases.count, 150)
    for (index, g) in cases.enumerated() {
      let c = randomCase(g, xSigned: index % 2 == 0, wSigned: index % 3 != 0, using: &random)
      let expected = reference(c)
      for level in levels {
        XCTAssertEqual(qat_depthwise_int8_set_level(level), level)
        assertSame(
          kernel(c), expected, width: Int(g.out_w),
          "level \(level) in \(g.in_h)x\(g.in_w) out \(g.out_h)x\(g.out_w) kernel \(g.kernel_h)x\(g.kernel_w) "
            + "stride \(g.stride_w) dilation \(g.dilation_w) pads \(g.pad_top),\(g.pad_left)")
      }
    }
  }

  /// Every product at -255 * 255 over 34,000 taps: the sums wrap around int32.
  func testDeepPlaneWrapsAtEveryLevel() {
    let (height, width, kernelH, kernelW) = (200, 200, 200, 170)
    guard
      let g = Int8DepthwiseReference.geometry(
        height: height, width: width, kernel: (kernelH, kernelW), strides: (1, 1), dilations: (1, 1),
        pads: (0, 0, 0, 0))
    else { return XCTFail("geometry") }
    // uint8 x with zero point 0 (255) by uint8 w with zero point 255 (-255).
    let c = Case(
      x: [UInt8](repeating: 255, count: height * width), w: [UInt8](repeating: 0, count: kernelH * kernelW),
      xSigned: false, wSigned: false, xZero: 0, wZero: 255, g: g)
    let expected = reference(c)
    XCTAssertEqual(expected.count, 31)
    XCTAssertNotEqual(Int64(expected[0]), Int64(-65_025) * Int64(kernelH * kernelW), "the test needs a wrapping sum")
    for level in levels {
      qat_depthwise_int8_set_level(level)
      assertSame(kernel(c), expected, width: Int(g.out_w), "level \(level)")
    }
  }

  /// Weights whose `w - w_zero` spans [-128, 127] as far as the type allows (both ends present),
  /// the zero point from `zeros`.
  private func byteWeights(
    _ count: Int, signed: Bool, zeros: [Int32], using random: inout SplitMix
  ) -> (w: [UInt8], zero: Int32) {
    let zero = zeros.randomElement(using: &random) ?? 0
    let (typeLow, typeHigh): (Int32, Int32) = signed ? (-128, 127) : (0, 255)
    let low = Swift.max(-128, typeLow - zero), high = Swift.min(127, typeHigh - zero)
    let w = (0..<count).map { index -> UInt8 in
      let value = index % 4 == 0 ? low : index % 4 == 1 ? high : Int32.random(in: low...high, using: &random)
      return UInt8(truncatingIfNeeded: value + zero)
    }
    return (w, zero)
  }

  /// The byte path (and the vpdpwssd and portable levels beside it) on every width 1 to 70 at
  /// strides 1 and 2 (steps of 64 and 32 outputs), kernels 1x1 to 3x16 (groups of four columns,
  /// partial ones included), uneven pads 0 to 2 (columns in the padding filled with the zero
  /// point), vertical strides and dilations, x zero points at the ends of their type.
  func testBytePathEqualsTheTapByTapLoop() {
    var random = SplitMix(seed: 29)
    var compared = 0
    for width in 1...70 {
      for stride in [1, 2] {
        for size in [(3, 3), (1, 1), (2, 4), (5, 5), (3, 7), (1, 16), (4, 2)] {
          let pads = (
            Int.random(in: 0...2, using: &random), Int.random(in: 0...2, using: &random),
            Int.random(in: 0...2, using: &random), Int.random(in: 0...2, using: &random)
          )
          let strideH = Int.random(in: 1...2, using: &random), dilationH = Int.random(in: 1...2, using: &random)
          guard
            let g = Int8DepthwiseReference.geometry(
              height: Int.random(in: 1...9, using: &random), width: width, kernel: size, strides: (strideH, stride),
              dilations: (dilationH, 1), pads: pads)
          else { continue }
          let xSigned = Int.random(in: 0..<4, using: &random) == 0
          let wSigned = Bool.random(using: &random)
          let xZeros: [Int32] = xSigned ? [-128, 127, 0] : [0, 255, 128]
          let wZeros: [Int32] = wSigned ? [0, 0, -128, 127, 1] : [128, 128, 0, 255, 100]
          let (w, wZero) = byteWeights(Int(g.kernel_h * g.kernel_w), signed: wSigned, zeros: wZeros, using: &random)
          let x = (0..<(Int(g.in_h) * Int(g.in_w))).map { index -> UInt8 in
            index % 11 == 0 ? 0 : index % 11 == 1 ? 255 : UInt8.random(in: 0...255, using: &random)
          }
          let c = Case(
            x: x, w: w, xSigned: xSigned, wSigned: wSigned, xZero: xZeros.randomElement(using: &random) ?? 0,
            wZero: wZero, g: g)
          XCTAssertTrue(takesBytePath(c), "the byte path should take this case")
          let expected = reference(c)
          for level in levels {
            qat_depthwise_int8_set_level(level)
            assertSame(
              kernel(c), expected, width: Int(g.out_w),
              "level \(level) in \(g.in_h)x\(g.in_w) out \(g.out_h)x\(g.out_w) kernel \(g.kernel_h)x\(g.kernel_w) "
                + "stride \(g.stride_h),\(g.stride_w) dilation \(g.dilation_h) pads \(g.pad_top),\(g.pad_left) "
                + "x \(xSigned ? "s8" : "u8") zero \(c.xZero) w \(wSigned ? "s8" : "u8") zero \(wZero)")
          }
          compared += 1
        }
      }
    }
    XCTAssertGreaterThan(compared, 780)
  }

  /// The byte path's sums past int32 (70,000 taps of +-32,640): they wrap, through the products
  /// themselves (a saturating vpdpbusds would clamp them) or through the zero-point correction.
  func testBytePathWrapsLikeInt32() {
    let (height, width, kernelH, kernelW) = (4_375, 20, 4_375, 16)
    guard
      let g = Int8DepthwiseReference.geometry(
        height: height, width: width, kernel: (kernelH, kernelW), strides: (1, 1), dilations: (1, 1),
        pads: (0, 0, 0, 0))
    else { return XCTFail("geometry") }
    // (x, x zero, int8 w): (255 - 0) * -128, (255 - 0) * 127, (0 - 255) * -128.
    for (xByte, xZero, wByte) in [(UInt8(255), Int32(0), UInt8(0x80)), (255, 0, 0x7F), (0, 255, 0x80)] {
      let c = Case(
        x: [UInt8](repeating: xByte, count: height * width), w: [UInt8](repeating: wByte, count: kernelH * kernelW),
        xSigned: false, wSigned: true, xZero: xZero, wZero: 0, g: g)
      XCTAssertTrue(takesBytePath(c))
      let expected = reference(c)
      XCTAssertEqual(expected.count, 5)
      let product = (Int64(xByte) - Int64(xZero)) * Int64(Int8(bitPattern: wByte))
      XCTAssertNotEqual(Int64(expected[0]), product * Int64(kernelH * kernelW), "the test needs a wrapping sum")
      for level in levels {
        qat_depthwise_int8_set_level(level)
        assertSame(kernel(c), expected, width: Int(g.out_w), "level \(level) x \(xByte) zero \(xZero) w \(wByte)")
      }
    }
  }
}
