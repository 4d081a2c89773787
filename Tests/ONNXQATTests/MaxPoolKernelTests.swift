import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The C MaxPool kernels (`qat_maxpool_f32`, `_u8`, `_s8`: row maxima then column maxima, AVX2
/// or portable) equal, bit for bit, the window walk that states MaxPool's semantics: the taps
/// inside the image in (ky, kx) order, the first taken, then any later one strictly greater, the
/// type's lowest value for a window with no tap inside. Exact comparisons (of float bit patterns):
/// the maximum involves no rounding, so any difference is a bug. Float planes mix ties of +0 and
/// -0 (whose winner depends on the order), -infinity, and NaNs with distinct payloads in some
/// planes only (a NaN first in a window wins; elsewhere it is skipped). Geometries: kernels 1 to
/// 5, strides 1 to 3, dilations 1 and 2, even and uneven pads up to windows wholly in the
/// padding, ceil_mode, 1-D (one row) and 2-D, rows narrower and wider than a vector.
final class MaxPoolKernelTests: XCTestCase {
  private struct Case: CustomStringConvertible {
    var height, width, kernelH, kernelW, strideH, strideW, dilationH, dilationW: Int
    var padTop, padLeft, padBottom, padRight: Int
    var ceil: Bool

    var description: String {
      "\(height)x\(width) k\(kernelH)x\(kernelW) s\(strideH)x\(strideW) d\(dilationH)x\(dilationW) "
        + "pads \(padTop),\(padLeft),\(padBottom),\(padRight) ceil \(ceil)"
    }

    /// Output size on one axis (ONNX's NOTSET formula; ceil_mode drops a window starting in the
    /// end padding), or nil when the padded input is smaller than the window.
    private func output(_ size: Int, _ kernel: Int, _ stride: Int, _ dilation: Int, _ begin: Int, _ end: Int) -> Int? {
      let span = size + begin + end - (kernel - 1) * dilation - 1
      guard span >= 0 else { return nil }
      guard ceil else { return span / stride + 1 }
      var count = (span + stride - 1) / stride + 1
      if (count - 1) * stride >= size + begin { count -= 1 }
      return count
    }

    var geometry: qat_depthwise_geometry? {
      guard let outH = output(height, kernelH, strideH, dilationH, padTop, padBottom),
        let outW = output(width, kernelW, strideW, dilationW, padLeft, padRight)
      else { return nil }
      return qat_depthwise_geometry(
        in_h: Int32(height), in_w: Int32(width), out_h: Int32(outH), out_w: Int32(outW), kernel_h: Int32(kernelH),
        kernel_w: Int32(kernelW), stride_h: Int32(strideH), stride_w: Int32(strideW), dilation_h: Int32(dilationH),
        dilation_w: Int32(dilationW), pad_top: Int32(padTop), pad_left: Int32(padLeft))
    }
  }

  /// Pseudo-random integers from a seeded generator.
  private struct Picker {
    var numbers: SeededFloats
    mutating func int(_ range: ClosedRange<Int>) -> Int {
      range.lowerBound + Int((numbers.next() + 1) * 1000) % (range.count)
    }
  }

  /// Hand-picked geometries (ResNet's stem pool, ceil_mode, windows in the padding, 1-D) and
  /// random ones.
  private func cases() -> [Case] {
    // (height, width, kernel, stride, dilation: height then width; pads top, left, bottom, right; ceil)
    let picked: [([Int], [Int], [Int], [Int], [Int], [Int], Bool)] = [
      ([112, 112], [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], false),
      ([56, 75], [3, 3], [2, 2], [1, 1], [0, 0], [0, 0], true),
      ([9, 70], [2, 2], [1, 1], [1, 1], [0, 0], [1, 1], false),
      ([6, 40], [2, 2], [1, 1], [1, 1], [3, 3], [3, 3], false),
      ([1, 100], [1, 5], [1, 2], [1, 2], [0, 4], [0, 1], true),
    ]
    var list = picked.map { size, kernel, stride, dilation, begin, end, ceil in
      Case(
        height: size[0], width: size[1], kernelH: kernel[0], kernelW: kernel[1], strideH: stride[0],
        strideW: stride[1], dilationH: dilation[0], dilationW: dilation[1], padTop: begin[0], padLeft: begin[1],
        padBottom: end[0], padRight: end[1], ceil: ceil)
    }
    var pick = Picker(numbers: SeededFloats(state: 17))
    while list.count < 160 {
      let oneD = pick.int(0...4) == 0
      var c = Case(
        height: oneD ? 1 : pick.int(1...12), width: pick.int(1...90), kernelH: oneD ? 1 : pick.int(1...5),
        kernelW: pick.int(1...5), strideH: pick.int(1...3), strideW: pick.int(1...3), dilationH: pick.int(1...2),
        dilationW: pick.int(1...2), padTop: 0, padLeft: 0, padBottom: 0, padRight: 0, ceil: pick.int(0...1) == 1)
      c.padTop = oneD ? 0 : pick.int(0...c.kernelH)
      c.padBottom = oneD ? 0 : pick.int(0...c.kernelH)
      c.padLeft = pick.int(0...c.kernelW)
      c.padRight = pick.int(0...c.kernelW)
      if c.geometry != nil { list.append(c) }
    }
    return list
  }

  /// The stated semantics, one window at a time, over `planes` planes.
  private func reference<T>(_ x: [T], planes: Int, _ g: qat_depthwise_geometry, lowest: T, greater: (T, T) -> Bool)
    -> [T]
  {
    let (inH, inW, outH, outW) = (Int(g.in_h), Int(g.in_w), Int(g.out_h), Int(g.out_w))
    var y: [T] = []
    for plane in 0..<planes {
      for oy in 0..<outH {
        for ox in 0..<outW {
          var best = lowest
          var found = false
          for ky in 0..<Int(g.kernel_h) {
            let iy = oy * Int(g.stride_h) - Int(g.pad_top) + ky * Int(g.dilation_h)
            guard iy >= 0, iy < inH else { continue }
            for kx in 0..<Int(g.kernel_w) {
              let ix = ox * Int(g.stride_w) - Int(g.pad_left) + kx * Int(g.dilation_w)
              guard ix >= 0, ix < inW else { continue }
              let value = x[(plane * inH + iy) * inW + ix]
              if !found || greater(value, best) { best = value }
              found = true
            }
          }
          y.append(best)
        }
      }
    }
    return y
  }

  /// The C kernel `pool` on `x` (`planes` planes), the portable loop when `portable`.
  private func kernel<T>(
    _ x: [T], planes: Int, _ g: qat_depthwise_geometry, elementSize: Int, portable: Bool, filler: T,
    _ pool: (
      UnsafePointer<T>, UnsafeMutablePointer<T>, Int32, UnsafePointer<qat_depthwise_geometry>,
      UnsafeMutableRawPointer
    ) -> Void
  ) -> [T] {
    qat_maxpool_set_portable(portable ? 1 : 0)
    defer { qat_maxpool_set_portable(0) }
    var geometry = g
    let bytes = qat_maxpool_scratch_bytes(&geometry, elementSize)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 16)
    defer { scratch.deallocate() }
    var y = [T](repeating: filler, count: planes * Int(g.out_h * g.out_w))
    x.withUnsafeBufferPointer { px in
      y.withUnsafeMutableBufferPointer { py in
        guard let xb = px.baseAddress, let yb = py.baseAddress else { return }
        pool(xb, yb, Int32(planes), &geometry, scratch)
      }
    }
    return y
  }

  /// Three planes: the first and last of values with many ties (+0 and -0 among them) and
  /// -infinity, the middle one also with NaNs of distinct payloads.
  private func floats(_ c: Case, _ numbers: inout SeededFloats) -> [Float] {
    let palette: [Float] = [-0.0, 0.0, -0.0, 0.0, 1, -1, 0.5, -.infinity, 2]
    let nans = [Float(bitPattern: 0x7FC0_0001), Float(bitPattern: 0xFFC0_0002), Float(bitPattern: 0x7FA0_0003)]
    let plane = c.height * c.width
    return (0..<(3 * plane)).map { index in
      let pick = Int((numbers.next() + 1) * 1000)
      if index / plane == 1 && pick % 7 == 0 { return nans[pick % nans.count] }
      return palette[pick % palette.count]
    }
  }

  func testFloatAVX2AndPortableEqualTheWindowWalkBitForBit() throws {
    var numbers = SeededFloats(state: 3)
    for c in cases() {
      guard let g = c.geometry else { continue }
      let x = floats(c, &numbers)
      let expected = reference(x, planes: 3, g, lowest: -Float.infinity, greater: >).map(\.bitPattern)
      for portable in [false, true] {
        let y = kernel(x, planes: 3, g, elementSize: 4, portable: portable, filler: Float(7), qat_maxpool_f32)
        XCTAssertEqual(y.map(\.bitPattern), expected, "\(c) portable \(portable)")
      }
    }
  }

  func testUInt8AndInt8AVX2AndPortableEqualTheWindowWalk() throws {
    var numbers = SeededFloats(state: 5)
    for c in cases() {
      guard let g = c.geometry else { continue }
      let bytes = (0..<(2 * c.height * c.width)).map { _ in UInt8(Int((numbers.next() + 1) * 1000) % 256) }
      let unsigned = reference(bytes, planes: 2, g, lowest: UInt8.min, greater: >)
      let signedInput = bytes.map { Int8(bitPattern: $0) }
      let signed = reference(signedInput, planes: 2, g, lowest: Int8.min, greater: >)
      for portable in [false, true] {
        let u = kernel(bytes, planes: 2, g, elementSize: 1, portable: portable, filler: UInt8(7), qat_maxpool_u8)
        XCTAssertEqual(u, unsigned, "uint8 \(c) portable \(portable)")
        let s = kernel(signedInput, planes: 2, g, elementSize: 1, portable: portable, filler: Int8(7), qat_maxpool_s8)
        XCTAssertEqual(s, signed, "int8 \(c) portable \(portable)")
      }
    }
  }

  /// Through the executor (threads 1 and 2): float MaxPool without Indices equals the Indices
  /// path (the generic loop) bit for bit, NaNs and signed zeros included.
  func testFloatMaxPoolNodeEqualsIndicesPath() throws {
    var numbers = SeededFloats(state: 9)
    let attributes = [
      Attribute(name: "kernel_shape", .ints([3, 3])), Attribute(name: "strides", .ints([2, 2])),
      Attribute(name: "pads", .ints([1, 1, 1, 1])),
    ]
    let c = Case(
      height: 40, width: 40, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, dilationH: 1, dilationW: 1, padTop: 1,
      padLeft: 1, padBottom: 1, padRight: 1, ceil: false)
    let values = (0..<12).flatMap { _ in floats(c, &numbers) }
    let x = HostTensor(.float, shape: [3, 12, 40, 40], values: values)
    for threads in [1, 2] {
      var options = ExecutionOptions()
      options.threads = threads
      let fast = try SingleNodeRun.run(
        "MaxPool", opset: 17, inputs: [x], attributes: attributes, outputs: 1, options: options)
      let general = try SingleNodeRun.run(
        "MaxPool", opset: 17, inputs: [x], attributes: attributes, outputs: 2, options: options)
      XCTAssertEqual(fast[0].shape, [3, 12, 20, 20])
      XCTAssertEqual(
        fast[0].values(Float.self).map(\.bitPattern), general[0].values(Float.self).map(\.bitPattern),
        "threads \(threads)")
    }
  }
}
