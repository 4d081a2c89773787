import Foundation
import XCTest

@testable import ONNXQAT

/// A Conv with few input channels and many output lines (a network's first layer) splits its
/// output lines into one band per thread, each thread laying out its own im2col columns and
/// multiplying them in one dispatch. The split must not change a bit: outputs on 2 and 3 threads
/// equal the 1-thread output exactly (every element is summed in the same order whatever the
/// bands). Against a float64 loop of the definition the outputs agree within 1e-5 relative to the
/// sum of the absolute products (float32 rounding of up to 27 products). Shapes: the MobileNet
/// stem (3 -> 32 channels, 3x3 stride 2 on 112x112), an odd line count whose bands are unequal,
/// and a 5x5 kernel with bias.
final class ConvBandSplitTests: XCTestCase {
  /// (channels, height, width, output channels, kernel, stride, pad)
  private let shapes = [(3, 112, 112, 32, 3, 2, 1), (3, 67, 45, 16, 3, 1, 1), (2, 50, 61, 24, 5, 1, 2)]

  func testBandsPerThreadGiveTheOneThreadBitsAndTheDefinition() throws {
    var numbers = SeededFloats(state: 41)
    for (channels, h, w, outChannels, k, s, p) in shapes {
      let x = numbers.tensor([1, channels, h, w])
      let weights = numbers.tensor([outChannels, channels, k, k])
      let bias = numbers.tensor([outChannels])
      let attributes = [
        Attribute(name: "pads", .ints([p, p, p, p].map(Int64.init))),
        Attribute(name: "strides", .ints([Int64(s), Int64(s)])),
      ]
      func conv(threads: Int) throws -> HostTensor {
        var options = ExecutionOptions()
        options.threads = threads
        return try SingleNodeRun.run(
          "Conv", opset: 22, inputs: [x, weights, bias], attributes: attributes, options: options)[0]
      }
      let one = try conv(threads: 1)
      let (outH, outW) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1)
      XCTAssertEqual(one.shape, [1, outChannels, outH, outW])
      let bits = { (t: HostTensor) in (0..<t.count).map { t.pointer(Float.self)[$0].bitPattern } }
      for threads in [2, 3] {
        XCTAssertEqual(bits(try conv(threads: threads)), bits(one), "\((channels, h, w, k, s)) on \(threads) threads")
      }
      let (px, pw, pb, py) = (
        x.pointer(Float.self), weights.pointer(Float.self), bias.pointer(Float.self), one.pointer(Float.self)
      )
      var worst = 0.0
      for m in 0..<outChannels {
        for oy in 0..<outH {
          for ox in 0..<outW {
            var sum = Double(pb[m])
            var magnitude = abs(sum)
            for c in 0..<channels {
              for ky in 0..<k {
                for kx in 0..<k {
                  let (iy, ix) = (oy * s - p + ky, ox * s - p + kx)
                  guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                  let product = Double(px[(c * h + iy) * w + ix]) * Double(pw[((m * channels + c) * k + ky) * k + kx])
                  sum += product
                  magnitude += abs(product)
                }
              }
            }
            worst = max(worst, abs(Double(py[(m * outH + oy) * outW + ox]) - sum) / max(magnitude, 1e-30))
          }
        }
      }
      XCTAssertLessThan(worst, 1e-5, "\((channels, h, w, k, s))")
    }
  }
}
