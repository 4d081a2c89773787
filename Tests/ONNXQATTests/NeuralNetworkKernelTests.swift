import Foundation
import XCTest

@testable import ONNXQAT

/// The neural-network kernels on forms ONNX's backend cases do not cover, each compared with a
/// straightforward reference loop written here: asymmetric pads, groups with dilation, 3-D
/// and depthwise convolution, ConvTranspose with output_shape and groups, MaxPool on integers,
/// Gemm with a 1-D C, products large enough for the blocked and threaded GEMM, Einsum forms,
/// and sequence_lens in the recurrent ops.
final class NeuralNetworkKernelTests: XCTestCase {
  // MARK: Helpers

  /// Runs one node with `inputs` (nil for an omitted optional input) and returns its outputs.
  private func run(
    _ op: String, opset: Int = 22, _ inputs: [HostTensor?], _ attributes: [Attribute] = [], outputs: Int = 1,
    threads: Int = 1
  ) throws -> [HostTensor] {
    var options = ExecutionOptions()
    options.threads = threads
    return try SingleNodeRun.run(
      op, opset: Int64(opset), inputs: inputs, attributes: attributes, outputs: outputs, options: options)
  }

  private func ints(_ name: String, _ values: [Int]) -> Attribute {
    Attribute(name: name, .ints(values.map(Int64.init)))
  }
  private func int(_ name: String, _ value: Int) -> Attribute { Attribute(name: name, .int(Int64(value))) }
  private func string(_ name: String, _ value: String) -> Attribute { Attribute(name: name, .string(Data(value.utf8))) }

  private func assertClose(
    _ actual: HostTensor, _ expected: [Float], shape: [Int], tolerance: Float = 1e-4, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertEqual(actual.shape, shape, file: file, line: line)
    let values = actual.values(Float.self)
    XCTAssertEqual(values.count, expected.count, file: file, line: line)
    var worst: Float = 0
    for (a, e) in zip(values, expected) { worst = max(worst, abs(a - e) / max(1, abs(e))) }
    XCTAssertLessThanOrEqual(worst, tolerance, "largest relative difference", file: file, line: line)
  }

  /// Reference convolution over three spatial axes (shapes padded with leading 1s).
  private func referenceConv(
    x: HostTensor, w: HostTensor, bias: [Float]?, group: Int, strides: [Int], dilations: [Int], padsBegin: [Int],
    output: [Int]
  ) -> [Float] {
    let lead = 5 - x.rank
    let xs = Array(x.shape[0..<2]) + Array(repeating: 1, count: lead) + Array(x.shape[2...])
    let ws = Array(w.shape[0..<2]) + Array(repeating: 1, count: lead) + Array(w.shape[2...])
    let s = Array(repeating: 1, count: lead) + strides
    let d = Array(repeating: 1, count: lead) + dilations
    let p = Array(repeating: 0, count: lead) + padsBegin
    let o = Array(repeating: 1, count: lead) + output
    let px = x.values(Float.self)
    let pw = w.values(Float.self)
    let (n, c, m, cg) = (xs[0], xs[1], ws[0], ws[1])
    var y = [Float](repeating: 0, count: n * m * o.reduce(1, *))
    var index = 0
    for b in 0..<n {
      for oc in 0..<m {
        let g = oc / (m / group)
        for od in 0..<o[0] {
          for oh in 0..<o[1] {
            for ow in 0..<o[2] {
              var sum = bias?[oc] ?? 0
              for ic in 0..<cg {
                for kd in 0..<ws[2] {
                  for kh in 0..<ws[3] {
                    for kw in 0..<ws[4] {
                      let id = od * s[0] - p[0] + kd * d[0]
                      let ih = oh * s[1] - p[1] + kh * d[1]
                      let iw = ow * s[2] - p[2] + kw * d[2]
                      guard id >= 0, id < xs[2], ih >= 0, ih < xs[3], iw >= 0, iw < xs[4] else { continue }
                      let channel = g * cg + ic
                      let xv = px[(((b * c + channel) * xs[2] + id) * xs[3] + ih) * xs[4] + iw]
                      let wv = pw[(((oc * cg + ic) * ws[2] + kd) * ws[3] + kh) * ws[4] + kw]
                      sum += xv * wv
                    }
                  }
                }
              }
              y[index] = sum
              index += 1
            }
          }
        }
      }
    }
    return y
  }

  // MARK: Conv

  func testConvAsymmetricPadsAndStrides() throws {
    var numbers = SeededFloats(state: 1)
    let x = numbers.tensor([2, 3, 7, 6])
    let w = numbers.tensor([4, 3, 3, 2])
    let b = numbers.tensor([4])
    let result = try run(
      "Conv", [x, w, b], [ints("pads", [2, 0, 1, 1]), ints("strides", [2, 1])])[0]
    // H: (7 + 2 + 1 - 3) / 2 + 1 = 4; W: (6 + 0 + 1 - 2) / 1 + 1 = 6
    let expected = referenceConv(
      x: x, w: w, bias: b.values(Float.self), group: 1, strides: [2, 1], dilations: [1, 1], padsBegin: [2, 0],
      output: [4, 6])
    assertClose(result, expected, shape: [2, 4, 4, 6])
  }

  func testConvGroupsWithDilation() throws {
    var numbers = SeededFloats(state: 2)
    let x = numbers.tensor([1, 6, 9, 8])
    let w = numbers.tensor([4, 3, 3, 3])
    let result = try run("Conv", [x, w], [int("group", 2), ints("dilations", [2, 3]), ints("pads", [1, 1, 1, 1])])[0]
    // H: (9 + 2 - 5) + 1 = 7; W: (8 + 2 - 7) + 1 = 4
    let expected = referenceConv(
      x: x, w: w, bias: nil, group: 2, strides: [1, 1], dilations: [2, 3], padsBegin: [1, 1], output: [7, 4])
    assertClose(result, expected, shape: [1, 4, 7, 4])
  }

  func testConv3D() throws {
    var numbers = SeededFloats(state: 3)
    let x = numbers.tensor([1, 2, 5, 6, 4])
    let w = numbers.tensor([3, 2, 2, 3, 2])
    let b = numbers.tensor([3])
    let result = try run(
      "Conv", [x, w, b], [ints("pads", [1, 0, 1, 0, 2, 1]), ints("strides", [1, 2, 1])])[0]
    // D: 5 + 1 - 2 + 1 = 5; H: (6 + 2 - 3) / 2 + 1 = 3; W: 4 + 2 - 2 + 1 = 5
    let expected = referenceConv(
      x: x, w: w, bias: b.values(Float.self), group: 1, strides: [1, 2, 1], dilations: [1, 1, 1],
      padsBegin: [1, 0, 1], output: [5, 3, 5])
    assertClose(result, expected, shape: [1, 3, 5, 3, 5])
  }

  func testDepthwiseConvWithMultiplierStrideAndSameLower() throws {
    var numbers = SeededFloats(state: 4)
    let x = numbers.tensor([2, 3, 9, 10])
    let w = numbers.tensor([6, 1, 3, 3])
    let result = try run(
      "Conv", [x, w], [int("group", 3), ints("strides", [2, 2]), string("auto_pad", "SAME_LOWER")], threads: 2)[0]
    // out = ceil(in / 2): 5 x 5; total pads H: 4*2 + 3 - 9 = 2 -> 1/1; W: 4*2 + 3 - 10 = 1 -> begin 1 (LOWER)
    let expected = referenceConv(
      x: x, w: w, bias: nil, group: 3, strides: [2, 2], dilations: [1, 1], padsBegin: [1, 1], output: [5, 5])
    assertClose(result, expected, shape: [2, 6, 5, 5])
    // Large enough to split channels across threads.
    let big = numbers.tensor([1, 8, 40, 40])
    let bigW = numbers.tensor([8, 1, 3, 3])
    let threaded = try run("Conv", [big, bigW], [int("group", 8), ints("pads", [1, 1, 1, 1])], threads: 2)[0]
    let bigExpected = referenceConv(
      x: big, w: bigW, bias: nil, group: 8, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], output: [40, 40])
    assertClose(threaded, bigExpected, shape: [1, 8, 40, 40])
  }

  func testConvLargeEnoughForTheBlockedThreadedGEMM() throws {
    var numbers = SeededFloats(state: 5)
    let x = numbers.tensor([1, 20, 24, 20])
    let w = numbers.tensor([23, 20, 3, 3])
    let b = numbers.tensor([23])
    let result = try run("Conv", [x, w, b], [ints("pads", [1, 1, 1, 1])], threads: 2)[0]
    let expected = referenceConv(
      x: x, w: w, bias: b.values(Float.self), group: 1, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1],
      output: [24, 20])
    assertClose(result, expected, shape: [1, 23, 24, 20])
    // A 1x1 kernel reads X directly (no im2col).
    let pointwise = numbers.tensor([13, 20, 1, 1])
    let direct = try run("Conv", [x, pointwise], threads: 2)[0]
    let reference = referenceConv(
      x: x, w: pointwise, bias: nil, group: 1, strides: [1, 1], dilations: [1, 1], padsBegin: [0, 0],
      output: [24, 20])
    assertClose(direct, reference, shape: [1, 13, 24, 20])
  }

  func testConvOnALargeImageRunsInBands() throws {
    var numbers = SeededFloats(state: 14)
    // 288 x 16,000 columns exceed one band of im2col (about 4M floats): two bands of lines.
    let x = numbers.tensor([1, 32, 100, 160])
    let w = numbers.tensor([2, 32, 3, 3])
    let result = try run("Conv", [x, w], [ints("pads", [1, 1, 1, 1])])[0]
    let expected = referenceConv(
      x: x, w: w, bias: nil, group: 1, strides: [1, 1], dilations: [1, 1], padsBegin: [1, 1], output: [100, 160])
    assertClose(result, expected, shape: [1, 2, 100, 160])
  }

  func testConvOnFloat16AndDoubleComputesInFloat32() throws {
    var numbers = SeededFloats(state: 13)
    let x = numbers.tensor([1, 2, 5, 5])
    let w = numbers.tensor([3, 2, 3, 3])
    let reference = try run("Conv", [x, w], [ints("pads", [1, 1, 1, 1])])[0].values(Float.self)
    let half = { (t: HostTensor) in
      HostTensor(.float16, shape: t.shape, values: t.values(Float.self).map { FloatBits.floatToFloat16($0) })
    }
    let result16 = try run("Conv", [half(x), half(w)], [ints("pads", [1, 1, 1, 1])])[0]
    XCTAssertEqual(result16.dataType, .float16)
    let decoded = result16.values(UInt16.self).map { FloatBits.float16ToFloat($0) }
    for (a, e) in zip(decoded, reference) { XCTAssertEqual(a, e, accuracy: 0.02 * max(1, abs(e))) }
    let double = { (t: HostTensor) in HostTensor(.double, shape: t.shape, values: t.values(Float.self).map(Double.init))
    }
    let result64 = try run("Conv", [double(x), double(w)], [ints("pads", [1, 1, 1, 1])])[0]
    XCTAssertEqual(result64.dataType, .double)
    for (a, e) in zip(result64.values(Double.self), reference) { XCTAssertEqual(a, Double(e), accuracy: 1e-5) }
  }

  func testConvRefusesMismatchedChannels() throws {
    var numbers = SeededFloats(state: 6)
    XCTAssertThrowsError(try run("Conv", [numbers.tensor([1, 4, 5, 5]), numbers.tensor([2, 3, 3, 3])])) { error in
      XCTAssertTrue("\(error)".contains("expected 4 input channels for group 1"), "\(error)")
    }
  }

  // MARK: ConvTranspose

  /// Reference transposed convolution in 2-D: scatter every input pixel through the kernel.
  private func referenceConvTranspose(
    x: HostTensor, w: HostTensor, group: Int, strides: [Int], padsBegin: [Int], output: [Int]
  ) -> [Float] {
    let (n, c, ih, iw) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (mg, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
    let m = mg * group
    let cg = c / group
    let px = x.values(Float.self)
    let pw = w.values(Float.self)
    var y = [Float](repeating: 0, count: n * m * output[0] * output[1])
    for b in 0..<n {
      for ic in 0..<c {
        let g = ic / cg
        for h in 0..<ih {
          for v in 0..<iw {
            for oc in 0..<mg {
              for i in 0..<kh {
                for j in 0..<kw {
                  let oh = h * strides[0] - padsBegin[0] + i
                  let ow = v * strides[1] - padsBegin[1] + j
                  guard oh >= 0, oh < output[0], ow >= 0, ow < output[1] else { continue }
                  let channel = g * mg + oc
                  y[((b * m + channel) * output[0] + oh) * output[1] + ow] +=
                    px[((b * c + ic) * ih + h) * iw + v] * pw[((ic * mg + oc) * kh + i) * kw + j]
                }
              }
            }
          }
        }
      }
    }
    return y
  }

  func testConvTransposeWithOutputShapeAndGroups() throws {
    var numbers = SeededFloats(state: 7)
    let x = numbers.tensor([1, 4, 3, 4])
    let w = numbers.tensor([4, 3, 3, 3])
    // Full size: H 2*2 + 3 = 7, W 2*3 + 3 = 9; requested 6 x 8 -> total padding 1 each, the
    // larger half at the beginning (NOTSET).
    let result = try run(
      "ConvTranspose", [x, w], [int("group", 2), ints("strides", [2, 2]), ints("output_shape", [6, 8])])[0]
    let expected = referenceConvTranspose(x: x, w: w, group: 2, strides: [2, 2], padsBegin: [1, 1], output: [6, 8])
    assertClose(result, expected, shape: [1, 6, 6, 8])
    // SAME_UPPER with output_shape puts the larger half at the end.
    let upper = try run(
      "ConvTranspose", [x, w],
      [int("group", 2), ints("strides", [2, 2]), ints("output_shape", [6, 8]), string("auto_pad", "SAME_UPPER")])[0]
    let expectedUpper = referenceConvTranspose(
      x: x, w: w, group: 2, strides: [2, 2], padsBegin: [0, 0], output: [6, 8])
    assertClose(upper, expectedUpper, shape: [1, 6, 6, 8])
  }

  // MARK: Pooling

  func testMaxPoolOnUInt8AndInt8WithIndices() throws {
    let values: [UInt8] = (0..<50).map { UInt8(($0 * 37 + 11) % 256) }
    let x = HostTensor(.uint8, shape: [1, 2, 5, 5], values: values)
    let outputs = try run(
      "MaxPool", [x], [ints("kernel_shape", [3, 2]), ints("strides", [2, 2]), ints("pads", [1, 0, 1, 1])],
      outputs: 2)
    // H: (5 + 2 - 3) / 2 + 1 = 3; W: (5 + 1 - 2) / 2 + 1 = 3
    var expected: [UInt8] = []
    var indices: [Int64] = []
    for c in 0..<2 {
      for oh in 0..<3 {
        for ow in 0..<3 {
          var best: UInt8 = 0
          var at = -1
          for i in 0..<3 {
            for j in 0..<2 {
              let h = oh * 2 - 1 + i
              let w = ow * 2 + j
              guard h >= 0, h < 5, w < 5 else { continue }
              let flat = (c * 5 + h) * 5 + w
              if at < 0 || values[flat] > best {
                best = values[flat]
                at = flat
              }
            }
          }
          expected.append(best)
          indices.append(Int64(at))
        }
      }
    }
    XCTAssertEqual(outputs[0].dataType, .uint8)
    XCTAssertEqual(outputs[0].shape, [1, 2, 3, 3])
    XCTAssertEqual(outputs[0].values(UInt8.self), expected)
    XCTAssertEqual(outputs[1].values(Int64.self), indices)
    let signed = HostTensor(.int8, shape: [1, 1, 2, 2], values: [Int8(-128), -5, -7, -100])
    let pooled = try run("MaxPool", [signed], [ints("kernel_shape", [2, 2])])[0]
    XCTAssertEqual(pooled.values(Int8.self), [-5])
  }

  func testAveragePoolCountIncludePadWithCeilMode() throws {
    let x = HostTensor(.float, shape: [1, 1, 1, 5], values: [Float]([1, 2, 3, 4, 5]))
    // W: ceil((5 + 1 + 0 - 2) / 2) + 1 = 3 windows: [pad, 1], [2, 3], [4, 5]
    let include = try run(
      "AveragePool", [x],
      [
        ints("kernel_shape", [1, 2]), ints("strides", [1, 2]), ints("pads", [0, 1, 0, 0]), int("ceil_mode", 1),
        int("count_include_pad", 1),
      ])[0]
    assertClose(include, [0.5, 2.5, 4.5], shape: [1, 1, 1, 3])
    let exclude = try run(
      "AveragePool", [x],
      [ints("kernel_shape", [1, 2]), ints("strides", [1, 2]), ints("pads", [0, 1, 0, 0]), int("ceil_mode", 1)])[0]
    assertClose(exclude, [1, 2.5, 4.5], shape: [1, 1, 1, 3])
  }

  // MARK: Gemm and MatMul

  private func referenceProduct(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool, transB: Bool)
    -> [Float]
  {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
      for j in 0..<n {
        var sum: Float = 0
        for p in 0..<k { sum += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]) }
        c[i * n + j] = sum
      }
    }
    return c
  }

  func testGemmWithVectorCAndTransposes() throws {
    var numbers = SeededFloats(state: 8)
    let (m, n, k) = (37, 29, 45)
    let a = numbers.tensor([k, m])
    let b = numbers.tensor([n, k])
    let c = numbers.tensor([n])
    let result = try run(
      "Gemm", opset: 13, [a, b, c],
      [int("transA", 1), int("transB", 1), Attribute(name: "alpha", .float(0.5)), Attribute(name: "beta", .float(2))],
      threads: 2)[0]
    let product = referenceProduct(
      a.values(Float.self), b.values(Float.self), m: m, n: n, k: k, transA: true, transB: true)
    let bias = c.values(Float.self)
    let expected = (0..<(m * n)).map { 0.5 * product[$0] + 2 * bias[$0 % n] }
    assertClose(result, expected, shape: [m, n])
    // A column C [M, 1] broadcasts along N; C omitted (opset 11+) adds nothing.
    let column = numbers.tensor([m, 1])
    let withColumn = try run("Gemm", opset: 13, [a, b, column], [int("transA", 1), int("transB", 1)])[0]
    let columnValues = column.values(Float.self)
    assertClose(withColumn, (0..<(m * n)).map { product[$0] + columnValues[$0 / n] }, shape: [m, n])
    let withoutC = try run("Gemm", opset: 13, [a, b, nil], [int("transA", 1), int("transB", 1)])[0]
    assertClose(withoutC, product, shape: [m, n])
  }

  func testMatMulBroadcastsBatchesThroughTheBlockedGEMM() throws {
    var numbers = SeededFloats(state: 9)
    let (m, n, k) = (70, 66, 300)
    let a = numbers.tensor([2, 1, m, k])
    let b = numbers.tensor([3, k, n])
    let result = try run("MatMul", opset: 13, [a, b], threads: 2)[0]
    let av = a.values(Float.self)
    let bv = b.values(Float.self)
    var expected: [Float] = []
    for i in 0..<2 {
      for j in 0..<3 {
        expected += referenceProduct(
          Array(av[(i * m * k)..<((i + 1) * m * k)]), Array(bv[(j * k * n)..<((j + 1) * k * n)]), m: m, n: n, k: k,
          transA: false, transB: false)
      }
    }
    assertClose(result, expected, shape: [2, 3, m, n])
    // A shared B folds A's batch into 1,300 rows: more than one chunk of packed A.
    let tall = numbers.tensor([2, 650, 40])
    let shared = numbers.tensor([40, 21])
    let folded = try run("MatMul", opset: 13, [tall, shared], threads: 2)[0]
    let reference = referenceProduct(
      tall.values(Float.self), shared.values(Float.self), m: 1300, n: 21, k: 40, transA: false, transB: false)
    assertClose(folded, reference, shape: [2, 650, 21])
  }

  func testMatMulOnInt32With1DOperand() throws {
    let a = HostTensor(.int32, shape: [2, 3], values: [Int32(1), 2, 3, -4, 5, -6])
    let v = HostTensor(.int32, shape: [3], values: [Int32(7), -8, 9])
    let result = try run("MatMul", opset: 13, [a, v])[0]
    XCTAssertEqual(result.dataType, .int32)
    XCTAssertEqual(result.shape, [2])
    XCTAssertEqual(result.values(Int32.self), [7 - 16 + 27, -28 - 40 - 54])
  }

  // MARK: Einsum

  func testEinsumOuterProductTransposeAndReduction() throws {
    var numbers = SeededFloats(state: 10)
    let u = numbers.tensor([3])
    let v = numbers.tensor([4])
    let outer = try run("Einsum", opset: 12, [u, v], [string("equation", "i,j->ji")])[0]
    let (uv, vv) = (u.values(Float.self), v.values(Float.self))
    assertClose(outer, (0..<12).map { vv[$0 / 3] * uv[$0 % 3] }, shape: [4, 3])
    let x = numbers.tensor([2, 3, 4])
    let y = numbers.tensor([2, 4, 5])
    let batched = try run("Einsum", opset: 12, [x, y], [string("equation", "bij,bjk->bki")])[0]
    let (xv, yv) = (x.values(Float.self), y.values(Float.self))
    var expected = [Float](repeating: 0, count: 2 * 5 * 3)
    for b in 0..<2 {
      for i in 0..<3 {
        for k in 0..<5 {
          for j in 0..<4 { expected[(b * 5 + k) * 3 + i] += xv[(b * 3 + i) * 4 + j] * yv[(b * 4 + j) * 5 + k] }
        }
      }
    }
    assertClose(batched, expected, shape: [2, 5, 3])
    let total = try run("Einsum", opset: 12, [x], [string("equation", "...j->...")])[0]
    assertClose(total, (0..<6).map { row in (0..<4).reduce(Float(0)) { $0 + xv[row * 4 + $1] } }, shape: [2, 3])
  }

  // MARK: Recurrent

  func testLSTMSequenceLengthsMatchShorterRuns() throws {
    var numbers = SeededFloats(state: 11)
    let (hidden, input) = (3, 2)
    let x = numbers.tensor([4, 2, input])
    let w = numbers.tensor([2, 4 * hidden, input])
    let r = numbers.tensor([2, 4 * hidden, hidden])
    let b = numbers.tensor([2, 8 * hidden])
    let lengths = HostTensor(.int32, shape: [2], values: [Int32(4), 2])
    let attributes = [int("hidden_size", hidden), string("direction", "bidirectional")]
    let both = try run("LSTM", [x, w, r, b, lengths], attributes, outputs: 3)
    // Batch entry 1 alone, with only its first two steps.
    let xv = x.values(Float.self)
    let short = HostTensor(
      .float, shape: [2, 1, input], values: [xv[2], xv[3], xv[6], xv[7]])
    let alone = try run("LSTM", [short, w, r, b], attributes, outputs: 3)
    let yh = both[1].values(Float.self)  // [2 directions, 2 batch, hidden]
    let aloneYh = alone[1].values(Float.self)
    for d in 0..<2 {
      for j in 0..<hidden {
        XCTAssertEqual(yh[(d * 2 + 1) * hidden + j], aloneYh[d * hidden + j], accuracy: 1e-5)
      }
    }
    // Steps past the length are zero in Y.
    let y = both[0].values(Float.self)  // [4, 2, 2, hidden]
    for t in 2..<4 {
      for d in 0..<2 {
        for j in 0..<hidden { XCTAssertEqual(y[((t * 2 + d) * 2 + 1) * hidden + j], 0) }
      }
    }
  }

  // MARK: Benchmark (prints only)

  /// Prints GFLOP/s of a 256^3 MatMul and a ResNet 3x3 convolution through the interpreter; runs
  /// only with ONNXQAT_BENCHMARK=1 (numbers mean something in a release build only).
  func testPrintGEMMAndConvThroughput() throws {
    guard ProcessInfo.processInfo.environment["ONNXQAT_BENCHMARK"] == "1" else {
      throw XCTSkip("set ONNXQAT_BENCHMARK=1 to print GEMM and Conv throughput")
    }
    var numbers = SeededFloats(state: 12)
    let a = numbers.tensor([256, 256])
    let b = numbers.tensor([256, 256])
    var best = Double.infinity
    for _ in 0..<10 {
      let start = Date()
      _ = try run("MatMul", opset: 13, [a, b])
      best = min(best, Date().timeIntervalSince(start))
    }
    print(String(format: "neural-network benchmark: GEMM 256x256x256 %.2f GFLOP/s", 2 * pow(256, 3) / best / 1e9))
    let x = numbers.tensor([1, 64, 56, 56])
    let w = numbers.tensor([64, 64, 3, 3])
    best = .infinity
    for _ in 0..<5 {
      let start = Date()
      _ = try run("Conv", [x, w], [ints("pads", [1, 1, 1, 1])])
      best = min(best, Date().timeIntervalSince(start))
    }
    print(
      String(
        format: "neural-network benchmark: Conv 3x3 56x56x64->64 %.2f GFLOP/s", 2.0 * 64 * 64 * 9 * 56 * 56 / best / 1e9
      ))
  }
}
