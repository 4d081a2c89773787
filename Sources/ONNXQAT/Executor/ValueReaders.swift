import Foundation

/// Who reads each value a graph's nodes define, by the value's GraphPlan slot, counted once when
/// a plan is made so that finding fusable chains (`ConvEpilogueChain`, `FakeQuantPair`) costs
/// array reads, linear in the graph's size, instead of dictionaries keyed by value identity.
struct ValueReaders {
  /// Node inputs that read each slot.
  private var reads: [Int32]
  /// The last node (index) that reads each slot as an input (-1: none).
  private var reader: [Int]
  /// Slots read by a subgraph or that are graph outputs.
  private var pinned: [Bool]
  /// The slot of each node input (-1: none), node after node: `inputSlots[inputStart[i]...]`.
  private let inputSlots: [Int]
  private let inputStart: [Int]
  /// The GraphPlan's slot of each value the graph defines.
  private let slotOf: [ObjectIdentifier: Int]

  /// The readers of the `slotCount` slots of a graph whose node inputs are `inputSlots` (node
  /// `i`'s from `inputStart[i]` to `inputStart[i + 1]`), whose subgraphs read `subgraphSlots` and
  /// whose outputs are `outputSlots`; `slotOf` gives each defined value's slot.
  init(
    slotOf: [ObjectIdentifier: Int], slotCount: Int, inputSlots: [Int], inputStart: [Int], subgraphSlots: [Int],
    outputSlots: [Int]
  ) {
    reads = [Int32](repeating: 0, count: slotCount)
    reader = [Int](repeating: -1, count: slotCount)
    pinned = [Bool](repeating: false, count: slotCount)
    for index in 0..<(inputStart.count - 1) {
      for slot in inputSlots[inputStart[index]..<inputStart[index + 1]] where slot >= 0 {
        reads[slot] += 1
        reader[slot] = index
      }
    }
    for slot in subgraphSlots { pinned[slot] = true }
    for slot in outputSlots { pinned[slot] = true }
    self.inputSlots = inputSlots
    self.inputStart = inputStart
    self.slotOf = slotOf
  }

  /// The node after `index` that alone reads the first output of `node` (node `index`), reading
  /// it once and as its input 0; nil when there is none (more than one read, a read by a
  /// subgraph, a graph output, a reader before its producer).
  func soleReader(of node: Node, at index: Int) -> Int? {
    guard let output = node.outputs.first ?? nil, let slot = slotOf[ObjectIdentifier(output)] else { return nil }
    return soleReader(ofSlot: slot, after: index)
  }

  /// The node after `index` that alone reads slot `slot`, once and as its input 0.
  private func soleReader(ofSlot slot: Int, after index: Int) -> Int? {
    guard slot >= 0, reads[slot] == 1, !pinned[slot] else { return nil }
    let node = reader[slot]
    guard node > index, inputStart[node] < inputStart[node + 1], inputSlots[inputStart[node]] == slot else {
      return nil
    }
    return node
  }

  /// True when a fused step may run `node` itself: an op of the default domain that runs a
  /// registered kernel (`runsKernel`), with no attribute referring to a calling function's and
  /// one named output, its first.
  static func isFusable(_ node: Node, runsKernel: Bool) -> Bool {
    (node.domain.isEmpty || node.domain == "ai.onnx") && runsKernel
      && !node.attributes.contains { $0.refAttrName != nil }
      && node.outputs.dropFirst().allSatisfy { $0 == nil } && (node.outputs.first ?? nil) != nil
  }
}
