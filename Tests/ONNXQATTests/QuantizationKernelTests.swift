import Foundation
import XCTest

@testable import ONNXQAT

/// The quantization kernels: bit-exact equality with onnxruntime in the `float` requantization
/// mode (models built and run by Tests/interop/quant_ort_reference.py), the `fixed-point` mode
/// within 1 LSB of it, and the float8 encoder, TFLite fixed-point primitives and requantizer on
/// known values.
final class QuantizationKernelTests: XCTestCase {
  struct Case: Decodable {
    let name: String
    let layer: Bool
    /// Full-range u8 x s8 weights, where onnxruntime's AVX2 kernels saturate int16 pair sums.
    let pairs: Bool
  }

  /// Writes onnxruntime's reference cases into a temporary folder.
  private func referenceCases() throws -> (String, [Case]) {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let result = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/quant_ort_reference.py", folder])
    XCTAssertEqual(result.status, 0, result.stderr)
    let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/index.json"))
    return (folder, try JSONDecoder().decode([Case].self, from: data))
  }

  /// Runs a case's model with the requantization mode `mode`; returns actual and expected outputs.
  private func run(_ folder: String, _ name: String, mode: ExecutionOptions.Requantization) throws
    -> [(String, HostTensor, HostTensor)]
  {
    let path = folder + "/" + name
    let model = try ModelLoader.load(path: path + "/model.onnx")
    var options = ExecutionOptions()
    options.requantization = mode
    let interpreter = try Interpreter(model: model, options: options)
    var feeds: [String: HostTensor] = [:]
    for (index, value) in model.graph.inputs.enumerated() {
      feeds[value.name] = try HostTensor(try TensorFile.load(path: "\(path)/input_\(index).pb"))
    }
    let outputs = try interpreter.run(feeds)
    return try model.graph.outputs.enumerated().map { index, value in
      let expected = try HostTensor(try TensorFile.load(path: "\(path)/output_\(index).pb"))
      guard let actual = outputs[value.name] else { throw ConformanceFailure("output \(value.name) missing") }
      return (value.name, actual, expected)
    }
  }

  func testFloatModeMatchesOnnxRuntimeBitForBit() throws {
    let (folder, cases) = try referenceCases()
    XCTAssertGreaterThanOrEqual(cases.count, 47)
    var compared = 0
    var equal = 0
    for entry in cases where !entry.pairs {
      for (name, actual, expected) in try run(folder, entry.name, mode: .float) {
        XCTAssertEqual(actual.dataType, expected.dataType, "\(entry.name) \(name)")
        XCTAssertEqual(actual.shape, expected.shape, "\(entry.name) \(name)")
        guard actual.shape == expected.shape else { continue }
        var caseEqual = 0
        for i in 0..<actual.count {
          // Float outputs (DequantizeLinear) compare bit patterns through Double exactly.
          if actual.element(at: i) == expected.element(at: i) { caseEqual += 1 }
        }
        compared += actual.count
        equal += caseEqual
        XCTAssertEqual(
          caseEqual, actual.count, "\(entry.name) output \(name): \(actual.count - caseEqual) elements differ")
      }
    }
    print(
      "onnxruntime bit-exactness: \(equal) of \(compared) elements equal in \(cases.filter { !$0.pairs }.count) cases")
    XCTAssertGreaterThan(compared, 10_000)
  }

  /// With full-range int8 weights onnxruntime's u8s8 GEMM on AVX2 (no VNNI) adds pairs of u8*s8
  /// products with int16 saturation (vpmaddubsw) before widening; zero-point corrections stay
  /// exact. Every element must equal either our exact result or that saturating emulation fed
  /// through the same Requantizer (so any difference lies in the accumulation, not the
  /// requantization).
  func testOnnxRuntimeFullRangeU8S8DifferencesAreInt16PairSaturation() throws {
    let (folder, cases) = try referenceCases()
    var checked = 0
    for entry in cases where entry.pairs {
      let path = folder + "/" + entry.name
      let model = try ModelLoader.load(path: path + "/model.onnx")
      var constants: [String: HostTensor] = [:]
      for value in model.graph.initializers {
        if let tensor = value.initializer { constants[value.name] = try HostTensor(tensor) }
      }
      let a = try HostTensor(try TensorFile.load(path: path + "/input_0.pb"))
      let outputs = try run(folder, entry.name, mode: .float)
      let (_, ours, expected) = try XCTUnwrap(outputs.first)
      let b = try XCTUnwrap(constants["b"])
      let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
      let aZero = Int32(try XCTUnwrap(constants["a_zp"]).pointer(UInt8.self)[0])
      let pa = a.pointer(UInt8.self)
      let pb = b.pointer(Int8.self)
      let requantizer = Requantizer(
        mode: .float, inputScale: try XCTUnwrap(constants["a_scale"]).pointer(Float.self)[0],
        weightScales: [try XCTUnwrap(constants["b_scale"]).pointer(Float.self)[0]],
        outputScale: try XCTUnwrap(constants["y_scale"]).pointer(Float.self)[0],
        zeroPoint: Int32(try XCTUnwrap(constants["y_zp"]).pointer(UInt8.self)[0]), range: 0...255)
      var exact = 0
      var saturated = 0
      for row in 0..<m {
        for column in 0..<n {
          var accumulator: Int32 = 0
          var columnSum: Int32 = 0
          for pair in stride(from: 0, to: k, by: 2) {
            var sum: Int32 = 0
            for inner in pair..<Swift.min(pair + 2, k) {
              sum += Int32(pa[row * k + inner]) * Int32(pb[inner * n + column])
              columnSum += Int32(pb[inner * n + column])
            }
            accumulator += Swift.min(Swift.max(sum, -32768), 32767)
          }
          let emulated = UInt8(requantizer.value(accumulator - aZero * columnSum, channel: 0))
          let index = row * n + column
          let reference = expected.pointer(UInt8.self)[index]
          let mine = ours.pointer(UInt8.self)[index]
          XCTAssertTrue(reference == mine || reference == emulated, "\(entry.name) element \(index)")
          if reference == mine { exact += 1 } else if reference == emulated { saturated += 1 }
          checked += 1
        }
      }
      print(
        "\(entry.name): onnxruntime equals exact arithmetic on \(exact), int16 pair saturation on \(saturated) more")
    }
    XCTAssertGreaterThan(checked, 0)
  }

  func testFixedPointModeIsWithinOneLSBOfFloatMode() throws {
    let (folder, cases) = try referenceCases()
    var total = 0
    var differing = 0
    var layerTotal = 0
    var layerDiffering = 0
    for entry in cases
    where entry.name.hasPrefix("qlinearconv") || entry.name.hasPrefix("qlinearmatmul")
      || entry.name.hasPrefix("qlinearmul") || entry.name.hasPrefix("qlinearadd") || entry.name.hasPrefix("qgemm")
      || entry.name.hasPrefix("qlinearglobalaveragepool") || entry.name.hasPrefix("qlinearaveragepool") || entry.layer
    {
      let floatOutputs = try run(folder, entry.name, mode: .float)
      let fixedOutputs = try run(folder, entry.name, mode: .fixedPoint)
      for ((name, a, _), (_, b, _)) in zip(floatOutputs, fixedOutputs) {
        var count = 0
        for i in 0..<a.count {
          let difference = abs(a.element(at: i) - b.element(at: i))
          XCTAssertLessThanOrEqual(difference, 1, "\(entry.name) \(name) element \(i)")
          if difference != 0 { count += 1 }
        }
        total += a.count
        differing += count
        print("  fixed-point vs float, \(entry.name): \(count) of \(a.count) differ")
        if entry.layer {
          layerTotal += a.count
          layerDiffering += count
        }
      }
    }
    print("fixed-point vs float on the reference cases: \(differing) of \(total) elements differ by 1 LSB")
    print("fixed-point vs float on the 3x3 32->32 conv layer: \(layerDiffering) of \(layerTotal) differ by 1 LSB")
    XCTAssertGreaterThan(layerTotal, 0)
  }

  /// Random accumulators and multipliers straight through the Requantizer.
  func testRequantizerModesDifferByAtMostOneLSBOnRandomData() {
    var generator = SystemRandomNumberGenerator()
    var differing = 0
    var total = 0
    for _ in 0..<200 {
      let inputScale = Float.random(in: 0.001...0.1, using: &generator)
      let weightScales = (0..<4).map { _ in Float.random(in: 0.0005...0.05, using: &generator) }
      let outputScale = Float.random(in: 0.01...0.5, using: &generator)
      let zeroPoint = Int32.random(in: 0...255, using: &generator)
      let float = Requantizer(
        mode: .float, inputScale: inputScale, weightScales: weightScales, outputScale: outputScale,
        zeroPoint: zeroPoint, range: 0...255)
      let fixed = Requantizer(
        mode: .fixedPoint, inputScale: inputScale, weightScales: weightScales, outputScale: outputScale,
        zeroPoint: zeroPoint, range: 0...255)
      for _ in 0..<250 {
        let accumulator = Int32.random(in: -200_000...200_000, using: &generator)
        let channel = Int.random(in: 0..<4, using: &generator)
        let a = float.value(accumulator, channel: channel)
        let b = fixed.value(accumulator, channel: channel)
        XCTAssertLessThanOrEqual(abs(a - b), 1, "accumulator \(accumulator) multiplier \(float.scales[channel])")
        if a != b { differing += 1 }
        total += 1
      }
    }
    print("fixed-point vs float on random accumulators: \(differing) of \(total) differ by 1 LSB")
  }

  func testTFLiteFixedPointPrimitives() {
    // 0.5 = 2^30 / 2^31 with shift 0; 0.75 * 2^-3; 3.0 = 0.75 * 2^2.
    XCTAssertTrue(Requantizer.quantizeMultiplier(0.5) == (1 << 30, 0))
    XCTAssertTrue(Requantizer.quantizeMultiplier(0.75 / 8) == (Int32(3 << 29), -3))
    XCTAssertTrue(Requantizer.quantizeMultiplier(3.0) == (Int32(3 << 29), 2))
    XCTAssertTrue(Requantizer.quantizeMultiplier(0) == (0, 0))
    XCTAssertEqual(Requantizer.saturatingRoundingDoublingHighMul(Int32.min, Int32.min), Int32.max)
    XCTAssertEqual(Requantizer.saturatingRoundingDoublingHighMul(1000, 1 << 30), 500)
    XCTAssertEqual(Requantizer.saturatingRoundingDoublingHighMul(-3, 1 << 30), -1)  // gemmlowp: -1.5 -> -1
    XCTAssertEqual(Requantizer.roundingDivideByPOT(5, 1), 3)  // 2.5 -> 3
    XCTAssertEqual(Requantizer.roundingDivideByPOT(-5, 1), -3)  // -2.5 -> -3
    XCTAssertEqual(Requantizer.roundingDivideByPOT(-7, 2), -2)  // -1.75 -> -2
    XCTAssertEqual(Requantizer.multiplyByQuantizedMultiplier(100, 1 << 30, -1), 25)
  }

  func testFloatRequantizationRoundsHalfToEvenAndClamps() {
    let requantizer = Requantizer(
      mode: .float, inputScale: 0.5, weightScales: [1], outputScale: 1, zeroPoint: 10, range: 0...255)
    XCTAssertEqual(requantizer.value(5, channel: 0), 12)  // 2.5 -> 2
    XCTAssertEqual(requantizer.value(7, channel: 0), 14)  // 3.5 -> 4
    XCTAssertEqual(requantizer.value(-1000, channel: 0), 0)
    XCTAssertEqual(requantizer.value(1000, channel: 0), 255)
  }

  /// The float8 encoder against onnx's reference (saturate_cast + ml_dtypes) on thousands of values.
  func testFloat8EncoderMatchesOnnxReferenceImplementation() throws {
    let (folder, _) = try referenceCases()
    let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/float8.json"))
    let json = try JSONDecoder().decode([String: AnyCodes].self, from: data)
    guard case .bits(let bits)? = json["bits"] else { return XCTFail("float8.json has no bits") }
    let values = bits.map { Float(bitPattern: $0) }
    var compared = 0
    for type in [DataType.float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz] {
      let encoder = try XCTUnwrap(MinifloatEncoder(type))
      guard case .codes(let codes)? = json[type.name] else { return XCTFail("float8.json has no \(type.name)") }
      for (index, value) in values.enumerated() {
        XCTAssertEqual(encoder.encode(value, saturate: true), codes.saturate[index], "\(type.name) saturate \(value)")
        XCTAssertEqual(encoder.encode(value, saturate: false), codes.plain[index], "\(type.name) \(value)")
        compared += 2
      }
    }
    print("float8 encoder: \(compared) encodings equal to onnx's reference")
  }

  /// float8.json entries: the input bit patterns, or one type's codes.
  enum AnyCodes: Decodable {
    case bits([UInt32])
    case codes(Codes)
    struct Codes: Decodable {
      let saturate: [UInt8]
      let plain: [UInt8]
    }
    init(from decoder: Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let bits = try? container.decode([UInt32].self) {
        self = .bits(bits)
      } else {
        self = .codes(try container.decode(Codes.self))
      }
    }
  }

  func testFloat8EncoderRoundsToNearestEvenAndSaturates() throws {
    let e4m3 = try XCTUnwrap(MinifloatEncoder(.float8e4m3fn))
    XCTAssertEqual(e4m3.encode(448, saturate: true), 0x7E)
    XCTAssertEqual(e4m3.encode(1000, saturate: true), 0x7E)
    XCTAssertEqual(e4m3.encode(-.infinity, saturate: true), 0xFE)
    XCTAssertEqual(e4m3.encode(1000, saturate: false), 0x7F)
    XCTAssertEqual(e4m3.encode(464, saturate: false), 0x7E)  // tie between 448 and 480 -> even (448)
    XCTAssertEqual(e4m3.encode(1.0625, saturate: true), 0x38)  // tie between 1 and 1.125 -> 1
    XCTAssertEqual(e4m3.encode(1.1875, saturate: true), 0x3A)  // tie between 1.125 and 1.25 -> 1.25
    XCTAssertEqual(e4m3.encode(Float(sign: .plus, exponent: -9, significand: 1), saturate: true), 0x01)
    XCTAssertEqual(e4m3.encode(-0.0, saturate: true), 0x80)
    let e4m3uz = try XCTUnwrap(MinifloatEncoder(.float8e4m3fnuz))
    XCTAssertEqual(e4m3uz.encode(-0.0, saturate: true), 0x00)
    XCTAssertEqual(e4m3uz.encode(240, saturate: true), 0x7F)
    XCTAssertEqual(e4m3uz.encode(300, saturate: false), 0x80)
    let e5m2 = try XCTUnwrap(MinifloatEncoder(.float8e5m2))
    XCTAssertEqual(e5m2.encode(57344, saturate: true), 0x7B)
    XCTAssertEqual(e5m2.encode(.infinity, saturate: true), 0x7B)
    XCTAssertEqual(e5m2.encode(1e6, saturate: false), 0x7C)
    XCTAssertEqual(e5m2.encode(-1e6, saturate: false), 0xFC)
    XCTAssertEqual(e5m2.encode(.nan, saturate: true), 0x7E)
    XCTAssertEqual(e4m3.encode(-.nan, saturate: true), 0xFF)
    XCTAssertEqual(e4m3.encode(-1000, saturate: false), 0xFF)
    let e5m2uz = try XCTUnwrap(MinifloatEncoder(.float8e5m2fnuz))
    XCTAssertEqual(e5m2uz.encode(1e6, saturate: false), 0x80)
    XCTAssertEqual(e5m2uz.encode(1, saturate: true), 0x40)
    // Every finite e4m3fn code round-trips.
    let decode = try XCTUnwrap(FloatBits.decoder(for: .float8e4m3fn))
    for code in UInt8(0)...UInt8(255) where decode(code).isFinite {
      XCTAssertEqual(e4m3.encode(decode(code), saturate: false), code, "code \(code)")
    }
  }

  // MARK: Single-node models

  /// Runs one node whose inputs are all graph inputs (nil: omitted), returning its first output.
  private func runNode(
    _ op: String, domain: String = "", opset: Int64 = 21, inputs: [HostTensor?], attributes: [Attribute] = [],
    mode: ExecutionOptions.Requantization = .float, threads: Int = 1
  ) throws -> HostTensor {
    var options = ExecutionOptions()
    options.requantization = mode
    options.threads = threads
    return try SingleNodeRun.run(
      op, domain: domain, opset: opset, inputs: inputs, attributes: attributes, options: options)[0]
  }

  private func floats(_ values: [Float], _ shape: [Int]) -> HostTensor {
    HostTensor(.float, shape: shape, values: values)
  }

  func testQuantizeLinearRoundsHalfToEvenSaturatesAndHandlesInt4() throws {
    let x = floats([-1000, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1000], [8])
    let u8 = try runNode(
      "QuantizeLinear", inputs: [x, .scalar(Float(1)), HostTensor(.uint8, shape: [], values: [UInt8(10)])])
    XCTAssertEqual(u8.values(UInt8.self), [0, 8, 8, 10, 10, 12, 12, 255])
    let i4 = try runNode(
      "QuantizeLinear", inputs: [x, .scalar(Float(1)), HostTensor(.int4, shape: [], values: [Int8(0)])])
    XCTAssertEqual(i4.dataType, .int4)
    XCTAssertEqual(i4.values(Int8.self), [-8, -2, -2, 0, 0, 2, 2, 7])
    let u16 = try runNode(
      "QuantizeLinear", inputs: [x, .scalar(Float(0.01))], attributes: [Attribute(name: "output_dtype", .int(4))])
    XCTAssertEqual(u16.dataType, .uint16)
    XCTAssertEqual(u16.values(UInt16.self), [0, 0, 0, 0, 50, 150, 250, 65535])
  }

  func testBlockedQuantizationWithARemainderBlock() throws {
    // x [2, 5], blocks of 2 on axis 1: scales [2, 3] (the last block has one element).
    let x = floats([1, 2, 3, 4, 5, 10, 20, 30, 40, 50], [2, 5])
    let scale = floats([1, 2, 4, 10, 20, 50], [2, 3])
    let q = try runNode(
      "QuantizeLinear", inputs: [x, scale, HostTensor(.int8, shape: [2, 3], values: [Int8](repeating: 0, count: 6))],
      attributes: [Attribute(name: "axis", .int(1)), Attribute(name: "block_size", .int(2))])
    XCTAssertEqual(q.values(Int8.self), [1, 2, 2, 2, 1, 1, 2, 2, 2, 1])
    let y = try runNode(
      "DequantizeLinear", inputs: [q, scale],
      attributes: [Attribute(name: "axis", .int(1)), Attribute(name: "block_size", .int(2))])
    XCTAssertEqual(y.values(Float.self), [1, 2, 4, 4, 4, 10, 20, 40, 40, 50])
  }

  func testQuantizeLinearToFloat8AndBack() throws {
    let x = floats([0.3, -1000, 1000, 17], [4])
    let zero = HostTensor(.float8e4m3fn, shape: [], values: [UInt8(0)])
    let saturated = try runNode("QuantizeLinear", inputs: [x, .scalar(Float(1)), zero])
    XCTAssertEqual(saturated.values(UInt8.self), [0x2A, 0xFE, 0x7E, 0x58])  // 0.3 -> 0.3125, 17 -> 16 (tie)
    let wrapped = try runNode(
      "QuantizeLinear", inputs: [x, .scalar(Float(1)), zero], attributes: [Attribute(name: "saturate", .int(0))])
    XCTAssertEqual(wrapped.values(UInt8.self), [0x2A, 0xFF, 0x7F, 0x58])
    let back = try runNode("DequantizeLinear", inputs: [saturated, .scalar(Float(2))])
    XCTAssertEqual(back.values(Float.self), [0.625, -896, 896, 32])
  }

  func testQLinearMatMulWithPerRowAScale() throws {
    // a [2, 2] with per-row scales [1, 2]; b = identity; y_scale 1.
    let a = HostTensor(.uint8, shape: [2, 2], values: [UInt8(3), 4, 5, 6])
    let b = HostTensor(.uint8, shape: [2, 2], values: [UInt8(1), 0, 0, 1])
    let u8zero = HostTensor(.uint8, shape: [], values: [UInt8(0)])
    let y = try runNode(
      "QLinearMatMul",
      inputs: [a, floats([1, 2], [2]), u8zero, b, .scalar(Float(1)), u8zero, .scalar(Float(1)), u8zero])
    XCTAssertEqual(y.values(UInt8.self), [3, 4, 10, 12])
  }

  func testIntegerKernelsRejectBadInputsWithMessages() throws {
    let x = HostTensor(.uint8, shape: [1, 3, 4, 4], values: [UInt8](repeating: 1, count: 48))
    let w = HostTensor(.uint8, shape: [2, 2, 3, 3], values: [UInt8](repeating: 1, count: 36))
    XCTAssertThrowsError(try runNode("ConvInteger", inputs: [x, w])) { error in
      XCTAssertTrue("\(error)".contains("channels do not match"), "\(error)")
    }
    let a = HostTensor(.uint8, shape: [2, 3], values: [UInt8](repeating: 1, count: 6))
    let b = HostTensor(.uint8, shape: [4, 2], values: [UInt8](repeating: 1, count: 8))
    XCTAssertThrowsError(try runNode("MatMulInteger", inputs: [a, b])) { error in
      XCTAssertTrue("\(error)".contains("inner dimensions"), "\(error)")
    }
    let badZero = HostTensor(.uint8, shape: [3], values: [UInt8(1), 2, 3])
    XCTAssertThrowsError(try runNode("MatMulInteger", inputs: [a, a.reshaped([3, 2]), badZero])) { error in
      XCTAssertTrue("\(error)".contains("a_zero_point must be a scalar or have 2 elements"), "\(error)")
    }
  }

  /// A zero output scale makes the multiplier infinite (and 0 * inf NaN): outputs saturate
  /// (NaN to qmin, as MLAS's MAXPS does) instead of trapping.
  func testZeroOutputScaleSaturatesInsteadOfTrapping() throws {
    let a = HostTensor(.uint8, shape: [1, 3], values: [UInt8(0), 1, 2])
    let b = HostTensor(.uint8, shape: [3, 1], values: [UInt8(1), 1, 1])
    let zero = HostTensor(.uint8, shape: [], values: [UInt8(1)])
    for mode in [ExecutionOptions.Requantization.float, .fixedPoint] {
      let y = try runNode(
        "QLinearMatMul",
        inputs: [
          a, .scalar(Float(1)), zero, b, .scalar(Float(1)), HostTensor(.uint8, shape: [], values: [UInt8(1)]),
          .scalar(Float(0)), HostTensor(.uint8, shape: [], values: [UInt8(7)]),
        ], mode: mode)
      XCTAssertEqual(y.count, 1)
    }
    let x = floats([.nan, .infinity, -.infinity], [3])
    let q = try runNode(
      "QuantizeLinear", inputs: [x, .scalar(Float(1)), HostTensor(.uint8, shape: [], values: [UInt8(9)])])
    XCTAssertEqual(q.values(UInt8.self), [0, 255, 0])
  }

  func testMatMulIntegerPerRowAndPerColumnZeroPoints() throws {
    let a = HostTensor(.uint8, shape: [2, 2], values: [UInt8(10), 11, 20, 22])
    let b = HostTensor(.int8, shape: [2, 2], values: [Int8(1), -1, 2, 3])
    let aZero = HostTensor(.uint8, shape: [2], values: [UInt8(10), 20])
    let bZero = HostTensor(.int8, shape: [2], values: [Int8(0), -1])
    let y = try runNode("MatMulInteger", inputs: [a, b, aZero, bZero])
    // rows (0, 1) and (0, 2); columns (1, 2) and (0, 4).
    XCTAssertEqual(y.values(Int32.self), [2, 4, 4, 8])
  }

  /// The tiled SIMD GEMM (packed panels, K blocks, row tails, thread splits) equals the plain
  /// triple loop bit for bit, including int32 wrap-around on large values.
  func testTiledIntegerGemmMatchesReferenceLoop() {
    var generator = SystemRandomNumberGenerator()
    let shapes = [
      (1, 1, 1), (1, 9, 37), (2, 5, 17), (5, 3, 16), (6, 17, 15), (7, 33, 33), (13, 600, 47), (64, 27, 300),
      (12, 1100, 40),
    ]
    for (m, k, n) in shapes {
      for wide in [false, true] {
        let range: ClosedRange<Int32> = wide ? Int32.min...Int32.max : -255...255
        let a = (0..<(m * k)).map { _ in Int32.random(in: range, using: &generator) }
        let b = (0..<(k * n)).map { _ in Int32.random(in: range, using: &generator) }
        var expected = [Int32](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in
          b.withUnsafeBufferPointer { pb in
            expected.withUnsafeMutableBufferPointer { pc in
              guard let a = pa.baseAddress, let b = pb.baseAddress, let c = pc.baseAddress else { return }
              IntegerGemm.referenceMultiply(a, b, c, m: m, k: k, n: n)
            }
          }
        }
        for threads in [1, 3] {
          var actual = [Int32](repeating: 7, count: m * n)
          a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
              actual.withUnsafeMutableBufferPointer { pc in
                guard let a = pa.baseAddress, let b = pb.baseAddress, let c = pc.baseAddress else { return }
                IntegerGemm.multiply(a, b, c, m: m, k: k, n: n, threads: threads)
              }
            }
          }
          XCTAssertEqual(actual, expected, "m \(m) k \(k) n \(n) wide \(wide) threads \(threads)")
        }
      }
    }
  }

  /// ConvInteger on random shapes (odd sizes, groups, depthwise, strides, pads, dilations,
  /// per-channel weight zero points, uint8 and int8 weights) equals a direct convolution loop,
  /// on one and two threads.
  func testConvIntegerMatchesDirectLoopOnRandomShapes() throws {
    var generator = SystemRandomNumberGenerator()
    // (batch, channels, outputs, group, height, width, kernel, stride, pad, dilation)
    let cases = [
      (1, 3, 8, 1, 9, 7, 3, 1, 1, 1), (2, 4, 6, 2, 11, 10, 3, 2, 1, 1), (1, 8, 8, 8, 13, 13, 3, 1, 1, 1),
      (1, 6, 6, 6, 12, 9, 3, 2, 1, 1), (1, 5, 7, 1, 8, 8, 1, 1, 0, 1), (1, 4, 9, 1, 10, 9, 2, 1, 2, 2),
      (1, 16, 32, 1, 15, 15, 3, 1, 1, 1), (1, 12, 12, 12, 7, 5, 5, 1, 2, 1), (1, 5, 12, 1, 13, 11, 3, 2, 1, 1),
      (2, 6, 12, 2, 9, 10, 3, 2, 0, 1), (1, 3, 7, 1, 17, 19, 7, 2, 3, 1),
      (1, 4, 4, 4, 9, 37, 3, 2, 1, 1), (2, 3, 3, 3, 6, 30, 3, 1, 1, 1), (1, 2, 2, 2, 5, 40, 3, 2, 0, 2),
    ]
    for (n, c, m, g, h, w, kernel, stride, pad, dilation) in cases {
      for signedWeights in [false, true] {
        let xValues = (0..<(n * c * h * w)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let wCount = m * (c / g) * kernel * kernel
        let wInts = (0..<wCount).map { _ in Int32.random(in: signedWeights ? -128...127 : 0...255, using: &generator) }
        let zInts = (0..<m).map { _ in Int32.random(in: signedWeights ? -128...127 : 0...255, using: &generator) }
        let xZero = UInt8.random(in: 0...255, using: &generator)
        let wType: DataType = signedWeights ? .int8 : .uint8
        let wTensor = QuantizedValues.tensor(wInts, type: wType, shape: [m, c / g, kernel, kernel])
        let zTensor = QuantizedValues.tensor(zInts, type: wType, shape: [m])
        let attributes = [
          Attribute(name: "group", .int(Int64(g))), Attribute(name: "strides", .ints([Int64(stride), Int64(stride)])),
          Attribute(name: "pads", .ints([Int64(pad), Int64(pad), Int64(pad), Int64(pad)])),
          Attribute(name: "dilations", .ints([Int64(dilation), Int64(dilation)])),
        ]
        let extent = dilation * (kernel - 1) + 1
        let oh = (h + 2 * pad - extent) / stride + 1
        let ow = (w + 2 * pad - extent) / stride + 1
        var expected = [Int32](repeating: 0, count: n * m * oh * ow)
        for image in 0..<n {
          for out in 0..<m {
            let group = out / (m / g)
            for oy in 0..<oh {
              for ox in 0..<ow {
                var sum: Int32 = 0
                for ci in 0..<(c / g) {
                  for ky in 0..<kernel {
                    for kx in 0..<kernel {
                      let iy = oy * stride + ky * dilation - pad
                      let ix = ox * stride + kx * dilation - pad
                      guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                      let channel = group * (c / g) + ci
                      let xv = Int32(xValues[((image * c + channel) * h + iy) * w + ix]) - Int32(xZero)
                      let wv = wInts[((out * (c / g) + ci) * kernel + ky) * kernel + kx] - zInts[out]
                      sum = sum &+ xv &* wv
                    }
                  }
                }
                expected[((image * m + out) * oh + oy) * ow + ox] = sum
              }
            }
          }
        }
        for threads in [1, 2] {
          let y = try runNode(
            "ConvInteger",
            inputs: [
              HostTensor(.uint8, shape: [n, c, h, w], values: xValues), wTensor,
              HostTensor(.uint8, shape: [], values: [xZero]), zTensor,
            ], attributes: attributes, threads: threads)
          XCTAssertEqual(y.shape, [n, m, oh, ow])
          XCTAssertEqual(y.values(Int32.self), expected, "case \((n, c, m, g, h, w, kernel, stride, pad)) \(threads)")
        }
      }
    }
  }
}
