extension KernelRegistry {
  static func registerControlFlow(_ registry: inout KernelRegistry) {
  }
}
