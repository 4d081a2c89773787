extension KernelRegistry {
  static func registerDataMovement(_ registry: inout KernelRegistry) {
  }
}
