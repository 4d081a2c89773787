extension KernelRegistry {
  static func registerQuantization(_ registry: inout KernelRegistry) {
  }
}
