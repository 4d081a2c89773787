import Foundation

/// The kernel of a planned fake-quant step: a `FakeQuantPair` (QuantizeLinear, then the
/// DequantizeLinear that alone reads it) run as one pass over the float input that writes the
/// DequantizeLinear's float output (`FakeQuantization`), with the bits of the two kernels.
///
/// Its inputs are the QuantizeLinear's, then the DequantizeLinear's after the first. When the run
/// shows the pass cannot give the unfused bits (x not float32; a scale, zero point or attribute
/// `FakeQuantization` does not take), or when the Interpreter's observer watches the main graph
/// (it must see the integer tensor too), the two kernels run one after the other.
final class FusedFakeQuantStep {
  private let members: FusedMembers

  /// A step for `quantize` and `dequantize` of `graph`, run unfused by `kernels` (theirs, in order).
  init(quantize: Node, dequantize: Node, kernels: [Kernel], graph: Graph) {
    members = FusedMembers(nodes: [quantize, dequantize], kernels: kernels, graph: graph)
  }

  /// Runs the step on `context` (whose node is the DequantizeLinear and inputs are
  /// `FusedMembers.inputs(of:)` the pair).
  func run(_ context: KernelContext) throws -> [HostTensor?] {
    let observing = members.isObserved(context)
    guard !observing, let x = context.optionalInput(0), x.dataType == .float,
      let fakeQuantization = FakeQuantization(members, quantizeAt: 0, context)
    else { return try members.runUnfused(context, observing: observing) }
    let result = HostTensor(uninitialized: .float, shape: x.shape)
    fakeQuantization.apply(x.pointer(Float.self), to: result.pointer(Float.self), count: x.count)
    return withExtendedLifetime(x) { [result] }
  }
}
