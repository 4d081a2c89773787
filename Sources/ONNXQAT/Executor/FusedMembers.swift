import Foundation

/// The nodes a fused step runs (a `ConvEpilogueChain`, a `FakeQuantPair`), each after the first
/// reading its predecessor's output as input 0, with their registered kernels: how the step's
/// inputs split among them, and the unfused run, each kernel after the other.
///
/// The step's inputs are the first node's inputs, then each later node's inputs after its first.
struct FusedMembers {
  let nodes: [Node]
  /// The registered kernels of `nodes`, in order.
  let kernels: [Kernel]
  /// The graph the step belongs to (the observer watches only the main graph).
  private let graph: ObjectIdentifier
  /// Where each node's inputs after the first start among the step's inputs (0 for the first
  /// node, whose inputs all come first).
  private let starts: [Int]

  /// The members `nodes` of `graph`, run by `kernels`.
  init(nodes: [Node], kernels: [Kernel], graph: Graph) {
    self.nodes = nodes
    self.kernels = kernels
    self.graph = ObjectIdentifier(graph)
    var starts = [0]
    var next = nodes.first?.inputs.count ?? 0
    for node in nodes.dropFirst() {
      starts.append(next)
      next += max(0, node.inputs.count - 1)
    }
    self.starts = starts
  }

  /// The operands of `nodes` that the step reads, in its input order.
  static func inputs(of nodes: [Node]) -> [Value?] {
    (nodes.first?.inputs ?? []) + nodes.dropFirst().flatMap { $0.inputs.dropFirst() }
  }

  /// The context of member `index` in the step's run `step`, its input 0 `first` (ignored for
  /// the first member, which reads the step's first inputs).
  func context(ofMember index: Int, first: HostTensor?, _ step: KernelContext) -> KernelContext {
    let node = nodes[index]
    let start = starts[index]
    let inputs: [HostTensor?]
    if index == 0 {
      inputs = Array(step.inputs.prefix(node.inputs.count))
    } else {
      let end = min(step.inputs.count, start + max(0, node.inputs.count - 1))
      inputs = [first] + step.inputs[min(start, end)..<end]
    }
    return KernelContext(
      node: node, inputs: inputs, opsetVersion: step.opsetVersion, interpreter: step.interpreter,
      environment: step.environment, attributes: node.attributes)
  }

  /// Input `position` of member `index` in the step's run `step` (nil when omitted), for a
  /// position after the first unless `index` is 0.
  func input(_ position: Int, ofMember index: Int, _ step: KernelContext) -> HostTensor? {
    guard position < nodes[index].inputs.count, index == 0 || position >= 1 else { return nil }
    return step.optionalInput(index == 0 ? position : starts[index] + position - 1)
  }

  /// True when the Interpreter's observer watches this run (of the main graph): it must see
  /// every intermediate, so the step runs its members one by one.
  func isObserved(_ step: KernelContext) -> Bool {
    step.interpreter.observer != nil && ObjectIdentifier(step.interpreter.model.graph) == graph
  }

  /// The members' kernels one after the other, each intermediate shown to the observer when
  /// `observing`.
  func runUnfused(_ step: KernelContext, observing: Bool) throws -> [HostTensor?] {
    var outputs = try kernels[0](context(ofMember: 0, first: nil, step))
    for index in nodes.indices.dropFirst() {
      if observing, let value = nodes[index - 1].outputs.first ?? nil, let tensor = outputs.first ?? nil {
        step.interpreter.observer?(value, tensor)
      }
      outputs = try kernels[index](context(ofMember: index, first: outputs.first ?? nil, step))
    }
    return outputs
  }
}
