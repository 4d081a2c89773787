extension KernelRegistry {
  static func registerElementwise(_ registry: inout KernelRegistry) {
  }
}
