extension KernelRegistry {
  static func registerNeuralNetwork(_ registry: inout KernelRegistry) {
    registry.register("MatMul", MatMulKernel.run)
    registry.register("Gemm", GemmKernel.run)
    registry.register("Conv", ConvKernel.run)
    registry.register("ConvTranspose", ConvTransposeKernel.run)
  }
}
