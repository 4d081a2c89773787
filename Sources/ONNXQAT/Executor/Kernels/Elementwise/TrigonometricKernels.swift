import Foundation

/// Trigonometric and hyperbolic maps `y[i] = f(x[i])`: Sin, Cos, Tan, Asin, Acos, Atan, Sinh,
/// Cosh, Asinh, Acosh, Atanh (opset 7/9 and later; no attributes), on float, double, float16 and
/// bfloat16 (half types through float32), computed with the C library's functions.
enum ElementwiseTrigonometric {
  static func register(_ registry: inout KernelRegistry) {
    let functions: [(String, (Float) -> Float, (Double) -> Double)] = [
      ("Sin", { Foundation.sin($0) }, { Foundation.sin($0) }),
      ("Cos", { Foundation.cos($0) }, { Foundation.cos($0) }),
      ("Tan", { Foundation.tan($0) }, { Foundation.tan($0) }),
      ("Asin", { Foundation.asin($0) }, { Foundation.asin($0) }),
      ("Acos", { Foundation.acos($0) }, { Foundation.acos($0) }),
      ("Atan", { Foundation.atan($0) }, { Foundation.atan($0) }),
      ("Sinh", { Foundation.sinh($0) }, { Foundation.sinh($0) }),
      ("Cosh", { Foundation.cosh($0) }, { Foundation.cosh($0) }),
      ("Asinh", { Foundation.asinh($0) }, { Foundation.asinh($0) }),
      ("Acosh", { Foundation.acosh($0) }, { Foundation.acosh($0) }),
      ("Atanh", { Foundation.atanh($0) }, { Foundation.atanh($0) }),
    ]
    for (op, single, double) in functions {
      registry.register(op) { context in try ElementwiseUnary.float(context, single, double) }
    }
  }
}
