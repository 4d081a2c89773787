extension KernelRegistry {
  /// The elementwise family: unary maps, broadcasting arithmetic and comparisons, Clip, Cast,
  /// Softmax and friends, reductions, ArgMax/ArgMin, CumSum, Identity and Dropout (files in
  /// `Kernels/Elementwise/`).
  static func registerElementwise(_ registry: inout KernelRegistry) {
    ElementwiseUnary.register(&registry)
    ElementwiseTrigonometric.register(&registry)
    ElementwiseBinary.register(&registry)
    ElementwiseComparison.register(&registry)
    ElementwiseCast.register(&registry)
    ElementwiseSoftmax.register(&registry)
    ElementwiseClip.register(&registry)
    ElementwiseIdentity.register(&registry)
    ElementwiseReduce.register(&registry)
    ElementwiseArgMax.register(&registry)
    ElementwiseCumSum.register(&registry)
  }
}
