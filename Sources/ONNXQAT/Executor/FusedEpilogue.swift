import CIntegerKernels
import Foundation

/// What a fused Conv step does to each output channel after the convolution has summed it: an
/// optional inference-form BatchNormalization, then an optional activation, with the very float32
/// operations the unfused kernels perform, in the same order, so that every output has the bits
/// the unfused graph gives (BatchNormalizationKernel.affine is shared with that kernel; the
/// C epilogue `qat_float_epilogue_apply`, float_epilogue.h, repeats BatchNormalizationKernel
/// .normalized, ElementwiseClip.clamp and ElementwiseUnary.relu / .leakyRelu operation for
/// operation, eight lanes at a time, and FusedEpilogueTests compare its bits with theirs):
///
///     factor[c] = scale[c] / sqrt(var[c] + epsilon)        (BatchNormalization)
///     shift[c]  = B[c] - mean[c] * factor[c]
///     y = x * factor[c] + shift[c]
///     y = y > 0 ? y : 0                                     (Relu)
///     y = min(max(y, min), max)                             (Clip)
///     y = y < 0 ? alpha * y : y                             (LeakyRelu)
///     y = fakeQuantized(y)                                  (QuantizeLinear -> DequantizeLinear)
///
/// The fake-quant pair's maths and proof of equal bits are `FakeQuantization`'s.
///
/// The Conv kernel applies it to each block of output it has just finished (a band of output
/// lines of a group, a depthwise plane) while the block is in cache, so the intermediate tensors
/// are never written.
struct FusedEpilogue {
  /// The activation that ends the chain.
  enum Activation {
    case relu
    case clip(low: Float, high: Float)
    case leakyRelu(alpha: Float)
  }

  /// Per output channel `factor` and `shift` of the BatchNormalization, nil without one.
  let normalization: (factor: [Float], shift: [Float])?
  let activation: Activation?
  /// The QuantizeLinear -> DequantizeLinear pair that ends the chain, nil without one.
  let fakeQuantization: FakeQuantization?

  /// The number of output channels the normalization covers (nil: any).
  var channels: Int? { normalization?.factor.count }

  /// The epilogue of `normalization`, then `activation`, then `fakeQuantization`.
  init(
    normalization: (factor: [Float], shift: [Float])?, activation: Activation?,
    fakeQuantization: FakeQuantization? = nil
  ) {
    self.normalization = normalization
    self.activation = activation
    self.fakeQuantization = fakeQuantization
  }

  /// The inference-form normalization of BatchNormalization inputs scale, B, input_mean and
  /// input_var (float32, one value per channel each), as BatchNormalizationKernel computes it.
  static func normalization(
    scale: HostTensor, bias: HostTensor, mean: HostTensor, variance: HostTensor, epsilon: Float
  ) -> (factor: [Float], shift: [Float]) {
    let channels = scale.count
    var factors = [Float](repeating: 0, count: channels)
    var shifts = [Float](repeating: 0, count: channels)
    let (ps, pb, pm, pv) = (
      scale.pointer(Float.self), bias.pointer(Float.self), mean.pointer(Float.self), variance.pointer(Float.self)
    )
    for c in 0..<channels {
      (factors[c], shifts[c]) = BatchNormalizationKernel.affine(
        scale: ps[c], bias: pb[c], mean: pm[c], variance: pv[c], epsilon: epsilon)
    }
    return withExtendedLifetime((scale, bias, mean, variance)) { (factors, shifts) }
  }

  /// Applies the epilogue of output channel `channel` to `count` values in place.
  func apply(channel: Int, to values: UnsafeMutablePointer<Float>, count: Int) {
    applyNormalizationAndActivation(channel: channel, to: values, count: count)
    // A second pass over values still in cache.
    applyFakeQuantization(to: values, count: count)
  }

  /// The kernel epilogue that does nothing (`qat_depthwise_plane_f32_fused` then stores `B + S`).
  static let noKernelEpilogue = qat_float_epilogue(
    normalize: 0, factor: 1, shift: 0, activation: QAT_EPILOGUE_NO_ACTIVATION, low: 0, high: 0, alpha: 0)

  /// The normalization and activation of output channel `channel` as the C kernels' epilogue
  /// (`qat_float_epilogue`: the float depthwise plane applies it as it stores).
  func kernelEpilogue(channel: Int) -> qat_float_epilogue {
    var result = Self.noKernelEpilogue
    if let normalization {
      result.normalize = 1
      result.factor = normalization.factor[channel]
      result.shift = normalization.shift[channel]
    }
    switch activation {
    case nil: break
    case .relu: result.activation = QAT_EPILOGUE_RELU
    case .clip(let low, let high): (result.activation, result.low, result.high) = (QAT_EPILOGUE_CLIP, low, high)
    case .leakyRelu(let alpha): (result.activation, result.alpha) = (QAT_EPILOGUE_LEAKY_RELU, alpha)
    }
    return result
  }

  /// Applies the fake-quant pair alone (what follows a kernel epilogue) to `count` values in place.
  func applyFakeQuantization(to values: UnsafeMutablePointer<Float>, count: Int) {
    fakeQuantization?.apply(values, to: values, count: count)
  }

  /// Applies the normalization and activation of output channel `channel` in place.
  private func applyNormalizationAndActivation(channel: Int, to values: UnsafeMutablePointer<Float>, count: Int) {
    guard normalization != nil || activation != nil else { return }
    var fused = kernelEpilogue(channel: channel)
    qat_float_epilogue_apply(values, count, &fused)
  }
}
