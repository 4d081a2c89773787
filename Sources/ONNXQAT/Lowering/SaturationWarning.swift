import Foundation

/// onnxruntime's AVX2 kernels for uint8 activations times int8 weights (CPUs without VNNI) add
/// pairs of products in int16 with saturation: `255 * 127 * 2` overflows, so with full-range
/// weights onnxruntime can depart from exact integer arithmetic (seen: up to 32 LSB on a conv).
/// Weights within [-64, 64] (`insert --reduce-range`) cannot overflow. The lowering still
/// writes exact integer ops; this only tells the user.
enum SaturationWarning {
  static func check(input: QuantizedOperand, weight: QuantizedOperand, op: Node, model: Model, rewriter: Rewriter) {
    guard input.parameters.type == .uint8, weight.parameters.type == .int8,
      let values = weight.integer.constantHostTensor(in: model).flatMap(QuantizedValues.int32s),
      let largest = values.map({ abs($0) }).max(), largest > 64
    else { return }
    rewriter.note(
      "\(op.label): uint8 x int8 with weights up to \(largest): onnxruntime's AVX2 kernels without VNNI may saturate"
        + " (insert --reduce-range keeps weights within 7 bits)")
  }
}
