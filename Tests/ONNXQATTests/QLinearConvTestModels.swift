import Foundation
import XCTest

@testable import ONNXQAT

/// QLinearConv models for the integer executor's tests: uint8 x, int8 weights within the u8 x s8
/// product's range, the weight zero point a graph input (so tests can change it between runs).
enum QLinearConvTestModels {
  /// Seeded int8 weights in [-60, 60] (within [-64, 64] for weight zero points up to 4 in magnitude).
  static func weights(_ count: Int, seed: UInt64) -> [Int8] {
    var state = seed | 1
    return (0..<count).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int8(Int((state >> 33) % 121) - 60)
    }
  }

  /// A `channels` -> `outputs` QLinearConv with a `kernel` x `kernel` kernel (pads kernel / 2,
  /// `group`) on `size` x `size` uint8 x, output type `output` ("uint8" or "int8"), an int32 bias;
  /// the weights are also a graph input when `weightInput`.
  static func model(
    channels: Int = 16, outputs: Int = 24, kernel: Int = 3, group: Int = 1, size: Int = 10,
    output: String = "uint8", weightInput: Bool = false
  ) throws -> Model {
    let shape = "\(outputs),\(channels / group),\(kernel),\(kernel)"
    let w = weights(outputs * (channels / group) * kernel * kernel, seed: UInt64(group * 7 + kernel))
    let bias = (0..<outputs).map { String($0 * 37 - 400) }.joined(separator: ", ")
    let pad = kernel / 2
    let yZero = output == "uint8" ? 120 : -9
    let text = """
      <ir_version: 8, opset_import: ["" : 13]>
      g (uint8[1,\(channels),\(size),\(size)] x, int8 w_zp\(weightInput ? ", int8[\(shape)] w" : "")) \
      => (\(output)[1,\(outputs),\(size),\(size)] y)
        <int8[\(shape)] w = {\(w.map(String.init).joined(separator: ", "))},
         float x_s = {0.02}, uint8 x_zp = {128}, float w_s = {0.004}, float y_s = {0.05}, \(output) y_zp = {\(yZero)},
         int32[\(outputs)] b = {\(bias)}> {
        y = QLinearConv <pads = [\(pad), \(pad), \(pad), \(pad)], group = \(group)> (x, x_s, x_zp, w, w_s, w_zp, y_s, y_zp, b)
      }
      """
    return try RewriteTestSupport.model(text)
  }

  /// Seeded x and the weight zero point `zeroPoint`.
  static func inputs(_ model: Model, seed: UInt64, zeroPoint: Int8) -> [String: HostTensor] {
    var inputs = RewriteTestSupport.randomInputs(model, seed: seed).filter { $0.key == "x" }
    inputs["w_zp"] = HostTensor(.int8, shape: [], values: [zeroPoint])
    return inputs
  }

  /// The bytes of `y` from one interpreter run over each of `feeds` in order.
  static func outputs(
    _ model: Model, _ feeds: [[String: HostTensor]], threads: Int, mode: ExecutionOptions.Requantization = .float
  ) throws -> [[UInt8]] {
    var options = ExecutionOptions()
    options.threads = threads
    options.requantization = mode
    let interpreter = try Interpreter(model: model, options: options)
    return try feeds.map { feed in
      let y = try XCTUnwrap(interpreter.run(feed)["y"])
      return y.dataType == .int8 ? y.values(Int8.self).map { UInt8(bitPattern: $0) } : y.values(UInt8.self)
    }
  }
}
