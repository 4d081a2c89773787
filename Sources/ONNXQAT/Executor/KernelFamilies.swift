extension KernelRegistry {
  /// Registration functions, one per kernel family file.
  static let families: [(inout KernelRegistry) -> Void] = [
    registerElementwise,
    registerDataMovement,
    registerNeuralNetwork,
    registerQuantization,
    registerControlFlow,
  ]
}
