extension KernelRegistry {
  /// Quantization kernels: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
  /// MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv, and onnxruntime's com.microsoft
  /// QLinearAdd, QLinearMul, QLinearSigmoid, QLinearLeakyRelu, QLinearConcat,
  /// QLinearGlobalAveragePool, QLinearAveragePool, QGemm and QLinearSoftmax.
  static func registerQuantization(_ registry: inout KernelRegistry) {
    registry.register("QuantizeLinear", versions: 10...28, QuantizeLinearKernel.run)
    registry.register("DequantizeLinear", versions: 10...28, DequantizeLinearKernel.run)
    registry.register("DynamicQuantizeLinear", versions: 11...28, DynamicQuantizeLinearKernel.run)
    registry.register("MatMulInteger", versions: 10...28, MatMulIntegerKernel.run)
    registry.register("ConvInteger", versions: 10...28, ConvIntegerKernel.run)
    registry.register("QLinearMatMul", versions: 10...28, QLinearMatMulKernel.run)
    registry.register("QLinearConv", versions: 10...28, QLinearConvKernel.run)
    registry.register("QLinearAdd", domain: "com.microsoft", versions: 1...1) { try QLinearBinaryKernel.run($0, .add) }
    registry.register("QLinearMul", domain: "com.microsoft", versions: 1...1) { try QLinearBinaryKernel.run($0, .mul) }
    registry.register("QLinearSigmoid", domain: "com.microsoft", versions: 1...1) {
      try QLinearLookupKernel.run($0, .sigmoid)
    }
    registry.register("QLinearLeakyRelu", domain: "com.microsoft", versions: 1...1) {
      try QLinearLookupKernel.run($0, .leakyRelu)
    }
    registry.register("QLinearConcat", domain: "com.microsoft", versions: 1...1, QLinearConcatKernel.run)
    registry.register(
      "QLinearGlobalAveragePool", domain: "com.microsoft", versions: 1...1, QLinearPoolingKernel.runGlobal)
    registry.register("QLinearAveragePool", domain: "com.microsoft", versions: 1...1, QLinearPoolingKernel.runAverage)
    registry.register("QGemm", domain: "com.microsoft", versions: 1...1, QGemmKernel.run)
    registry.register("QLinearSoftmax", domain: "com.microsoft", versions: 1...1, QLinearSoftmaxKernel.run)
  }
}
