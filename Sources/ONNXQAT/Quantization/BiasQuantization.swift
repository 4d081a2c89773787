import Foundation

/// A float bias as int32 at scale `s_x * s_w[c]`, zero point 0 (DESIGN.md section 4):
/// `q[c] = round(b[c] / (s_x * s_w[c]))`, float32 product and quotient, half to even.
///
/// When `|b[c] / (s_x * s_w[c])|` would exceed 2^30 (half the int32 range, leaving room for the
/// accumulator), the weight scale of that channel is raised to `|b[c]| / (s_x * 2^30)` so that the
/// bias fits; the weight is then quantized with the raised scale. Per-tensor weights raise their
/// one scale for the largest bias. The report lists every raised channel.
enum BiasQuantization {
  static let limit: Float = 1_073_741_824  // 2^30

  /// Raises the weight scales `bias` needs; returns the channels raised.
  static func fitWeightScales(bias: [Float], inputScale: Float, weight: inout QuantParameters) -> [Int] {
    var raised: [Int] = []
    for (channel, value) in bias.enumerated() {
      let p = weight.scales.count == 1 ? 0 : channel
      guard p < weight.scales.count else { break }
      let needed = abs(value) / (inputScale * limit)
      if needed.isFinite && needed > weight.scales[p] {
        weight.scales[p] = needed
        raised.append(channel)
      }
    }
    return raised
  }

  /// The int32 bias and its per-channel (or single) scales.
  static func quantize(bias: [Float], inputScale: Float, weight: QuantParameters) -> (HostTensor, [Float]) {
    let scales = weight.scales.map { inputScale * $0 }
    let values = bias.enumerated().map { channel, value -> Int32 in
      let scale = scales.count == 1 ? scales[0] : scales[min(channel, scales.count - 1)]
      let q = (value / scale).rounded(.toNearestOrEven)
      guard q.isFinite else { return 0 }
      return Int32(min(max(q, -2_147_483_648), 2_147_483_520))
    }
    return (HostTensor(.int32, shape: [bias.count], values: values), scales)
  }
}
