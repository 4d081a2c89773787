extension KernelRegistry {
  static func registerNeuralNetwork(_ registry: inout KernelRegistry) {
  }
}
