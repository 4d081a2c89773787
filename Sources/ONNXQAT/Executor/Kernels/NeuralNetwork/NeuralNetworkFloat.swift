import Foundation

/// Float32 views of the neural-network kernels' inputs and outputs: the kernels compute in
/// float32; double, float16 and bfloat16 tensors are converted on the way in and back on the
/// way out. Also the thread count a kernel may use (`ExecutionOptions.threads`).
enum NeuralNetworkFloat {
  /// The element types the float kernels accept.
  static let types: Set<DataType> = [.float, .double, .float16, .bfloat16]

  /// `tensor` itself when it is float32, otherwise a float32 copy; fails for other types.
  static func input(_ tensor: HostTensor, _ what: String, _ context: KernelContext) throws -> HostTensor {
    switch tensor.dataType {
    case .float: return tensor
    case .double:
      let result = HostTensor(uninitialized: .float, shape: tensor.shape)
      let source = tensor.pointer(Double.self)
      let target = result.pointer(Float.self)
      for i in 0..<tensor.count { target[i] = Float(source[i]) }
      return result
    case .float16:
      let result = HostTensor(uninitialized: .float, shape: tensor.shape)
      let source = tensor.pointer(UInt16.self)
      let target = result.pointer(Float.self)
      for i in 0..<tensor.count { target[i] = FloatBits.float16ToFloat(source[i]) }
      return result
    case .bfloat16:
      let result = HostTensor(uninitialized: .float, shape: tensor.shape)
      let source = tensor.pointer(UInt16.self)
      let target = result.pointer(Float.self)
      for i in 0..<tensor.count { target[i] = FloatBits.bfloat16ToFloat(source[i]) }
      return result
    default:
      throw context.failure("\(what) is \(tensor.typeDescription); expected float, double, float16 or bfloat16")
    }
  }

  /// Input `index` as float32 (see `input(_:_:_:)`).
  static func input(_ context: KernelContext, _ index: Int, _ name: String) throws -> HostTensor {
    try input(try context.input(index), "input \(index) '\(name)'", context)
  }

  /// Optional input `index` as float32, nil when omitted.
  static func optionalInput(_ context: KernelContext, _ index: Int, _ name: String) throws -> HostTensor? {
    guard let tensor = context.optionalInput(index) else { return nil }
    return try input(tensor, "input \(index) '\(name)'", context)
  }

  /// A float32 result converted to `type` (no copy when `type` is float).
  static func output(_ tensor: HostTensor, as type: DataType) -> HostTensor {
    switch type {
    case .double:
      let result = HostTensor(uninitialized: .double, shape: tensor.shape)
      let source = tensor.pointer(Float.self)
      let target = result.pointer(Double.self)
      for i in 0..<tensor.count { target[i] = Double(source[i]) }
      return result
    case .float16:
      let result = HostTensor(uninitialized: .float16, shape: tensor.shape)
      let source = tensor.pointer(Float.self)
      let target = result.pointer(UInt16.self)
      for i in 0..<tensor.count { target[i] = FloatBits.floatToFloat16(source[i]) }
      return result
    case .bfloat16:
      let result = HostTensor(uninitialized: .bfloat16, shape: tensor.shape)
      let source = tensor.pointer(Float.self)
      let target = result.pointer(UInt16.self)
      for i in 0..<tensor.count { target[i] = FloatBits.floatToBFloat16(source[i]) }
      return result
    default:
      return tensor
    }
  }

  /// Worker threads the kernel may use (the run's `ExecutionOptions.threads`, at least 1).
  static func threads(_ context: KernelContext) -> Int {
    max(1, context.interpreter.options.threads)
  }
}
