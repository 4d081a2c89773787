/// Identity (`y = x`, any tensor type) and Dropout at inference (`y = x`; the optional mask
/// output is all true: bool from opset 10, x's type before). Opsets 1-11 read `ratio` and
/// `is_test` as attributes and always run as inference; opset 12 on reads the optional inputs
/// `ratio` (default 0.5) and `training_mode` (default false): training mode with a ratio above
/// zero would drop at random and is refused; with ratio 0 it is the identity.
enum ElementwiseIdentity {
  static func register(_ registry: inout KernelRegistry) {
    registry.register("Identity") { context in [try context.input(0)] }
    registry.register("Dropout") { context in
      let x = try context.input(0)
      if context.opsetVersion >= 12, let training = context.optionalInput(2), training.count > 0,
        training.element(at: 0) != 0
      {
        let ratio = context.optionalInput(1).map { $0.count > 0 ? $0.element(at: 0) : 0.5 } ?? 0.5
        if ratio != 0 {
          throw context.failure("training_mode is true with ratio \(ratio); expected inference (training_mode false)")
        }
      }
      guard context.node.outputs.count > 1, context.node.outputs[1] != nil else { return [x] }
      let maskType: DataType = context.opsetVersion >= 10 ? .bool : x.dataType
      let mask = HostTensor(zeros: maskType, shape: x.shape)
      if maskType == .bool {
        mask.pointer(UInt8.self).update(repeating: 1, count: mask.count)
      } else {
        let one = try ElementwiseCast.convert(
          HostTensor(.bool, shape: [], values: [UInt8(1)]), to: maskType, saturate: true)
        let stride = maskType.storageStride
        withExtendedLifetime(one) {
          for index in 0..<mask.count {
            mask.buffer.raw.advanced(by: index * stride).copyMemory(from: one.buffer.raw, byteCount: stride)
          }
        }
      }
      return [x, mask]
    }
  }
}
