extension KernelRegistry {
  /// The neural-network family (files in `Kernels/NeuralNetwork/`): matrix products and
  /// convolutions through one shared blocked SIMD GEMM, pooling, normalizations, Einsum and the
  /// recurrent ops, in float32 (double, float16 and bfloat16 converted); MaxPool also on int8/uint8.
  static func registerNeuralNetwork(_ registry: inout KernelRegistry) {
    registry.register("MatMul") { try MatMulKernel.run($0) }
    registry.register("Gemm", GemmKernel.run)
    registry.register("Conv", ConvKernel.run)
    registry.register("ConvTranspose", ConvTransposeKernel.run)
    registry.register("DeformConv", DeformConvKernel.run)
    registry.register("MaxPool", PoolingKernel.maxPool)
    registry.register("AveragePool", PoolingKernel.averagePool)
    registry.register("LpPool", PoolingKernel.lpPool)
    registry.register("GlobalAveragePool", GlobalPoolKernel.average)
    registry.register("GlobalMaxPool", GlobalPoolKernel.max)
    registry.register("GlobalLpPool", GlobalPoolKernel.lp)
    registry.register("MaxUnpool", MaxUnpoolKernel.run)
    registry.register("Col2Im", Col2ImKernel.run)
    registry.register("RoiAlign", RoiAlignKernel.run)
    registry.register("BatchNormalization", BatchNormalizationKernel.run)
    registry.register("InstanceNormalization", InstanceNormalizationKernel.run)
    registry.register("LRN", LRNKernel.run)
    registry.register("GroupNormalization", GroupNormalizationKernel.run)
    registry.register("RMSNormalization", RMSNormalizationKernel.run)
    registry.register("MeanVarianceNormalization", MeanVarianceNormalizationKernel.run)
    registry.register("LayerNormalization", LayerNormalizationKernel.run)
    registry.register("Einsum", EinsumKernel.run)
    registry.register("LSTM", LSTMKernel.run)
    registry.register("GRU", GRUKernel.run)
    registry.register("RNN", RNNKernel.run)
  }
}
