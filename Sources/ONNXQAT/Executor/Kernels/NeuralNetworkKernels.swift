extension KernelRegistry {
  static func registerNeuralNetwork(_ registry: inout KernelRegistry) {
    registry.register("MatMul", MatMulKernel.run)
    registry.register("Gemm", GemmKernel.run)
    registry.register("Conv", ConvKernel.run)
    registry.register("ConvTranspose", ConvTransposeKernel.run)
    registry.register("MaxPool", PoolingKernel.maxPool)
    registry.register("AveragePool", PoolingKernel.averagePool)
    registry.register("LpPool", PoolingKernel.lpPool)
    registry.register("GlobalAveragePool", GlobalPoolKernel.average)
    registry.register("GlobalMaxPool", GlobalPoolKernel.max)
    registry.register("GlobalLpPool", GlobalPoolKernel.lp)
    registry.register("BatchNormalization", BatchNormalizationKernel.run)
    registry.register("InstanceNormalization", InstanceNormalizationKernel.run)
    registry.register("LRN", LRNKernel.run)
    registry.register("LayerNormalization", LayerNormalizationKernel.run)
    registry.register("Einsum", EinsumKernel.run)
    registry.register("LSTM", LSTMKernel.run)
    registry.register("GRU", GRUKernel.run)
    registry.register("RNN", RNNKernel.run)
  }
}
