import Foundation

/// An operator application (ONNX `NodeProto`). Its outputs are created with the node and never
/// change; its inputs change only through `replaceInput`, which keeps every value's use list true.
public final class Node {
  public var name: String
  public var opType: String
  public var domain: String
  public var attributes: [Attribute] {
    didSet {
      guard let graph, oldValue.contains(where: \.holdsSubgraph) != hasSubgraphs else { return }
      graph.subgraphNodeCount += hasSubgraphs ? 1 : -1
    }
  }
  /// Inputs in order; nil marks an omitted optional input ("" in the proto).
  public private(set) var inputs: [Value?]
  /// Outputs in order; nil marks an omitted optional output.
  public let outputs: [Value?]
  public var docString: String?
  public var extras = WireExtras()
  /// The graph that holds this node, once appended. Held without a reference count (the graph
  /// holds its nodes) and without a weak reference (a side table per graph, and a slow load per
  /// `node.graph === graph` check of every pass); safe because a graph clears it for its nodes
  /// when it goes, and a removal clears it for the removed node.
  public internal(set) unowned(unsafe) var graph: Graph?
  /// Whether the node is listed among its inputs' uses (from `init` until `detachInputs`).
  private var isAttached = true

  /// Creates a node and registers it as a user of its inputs. `outputNames` creates the output
  /// values (nil for an omitted optional output).
  public init(
    opType: String, domain: String = "", name: String = "", inputs: [Value?],
    outputNames: [String?], attributes: [Attribute] = []
  ) {
    self.opType = opType
    self.domain = domain
    self.name = name
    self.inputs = inputs
    self.attributes = attributes
    self.outputs = outputNames.map { $0.map { Value(name: $0) } }
    for (index, output) in outputs.enumerated() {
      output?.producer = self
      output?.outputIndex = index
    }
    for (index, input) in inputs.enumerated() { input?.addUse(self, index) }
    for graph in subgraphs { graph.owningNode = self }
  }

  /// The single output, for the common one-output node. Nil when the node has none.
  public var output: Value? { outputs.first ?? nil }

  /// The attribute named `name`, if present.
  public func attribute(_ name: String) -> Attribute? { attributes.first { $0.name == name } }

  /// Every subgraph held by this node's attributes.
  public var subgraphs: [Graph] { hasSubgraphs ? attributes.flatMap(\.subgraphs) : [] }

  /// Whether an attribute of this node holds a subgraph (no list is built: most nodes have
  /// attributes, few have subgraphs).
  public var hasSubgraphs: Bool { attributes.contains { $0.holdsSubgraph } }

  /// Points input `index` at `value` (nil omits it), moving the use from the old value to the new
  /// (a node removed from its graph is no value's user: only its input changes).
  public func replaceInput(at index: Int, with value: Value?) throws {
    guard inputs.indices.contains(index) else {
      throw ONNXQATError.refusedEdit(
        "node '\(name)' (\(opType)) has \(inputs.count) inputs; there is no input \(index)")
    }
    if isAttached { inputs[index]?.removeUse(self, index) }
    inputs[index] = value
    if isAttached { value?.addUse(self, index) }
  }

  /// Appends an input at the end (for optional trailing inputs such as Conv's bias).
  public func appendInput(_ value: Value?) {
    inputs.append(value)
    if isAttached { value?.addUse(self, inputs.count - 1) }
  }

  func detachInputs() {
    guard isAttached else { return }
    isAttached = false
    for (index, input) in inputs.enumerated() { input?.removeUse(self, index) }
  }

  /// Values refer back to their producer and users without a reference count (`Value.UseEntry`),
  /// so a node that goes takes those references with it: no value is left pointing at it.
  deinit {
    detachInputs()
    for output in outputs { output?.producer = nil }
  }

  /// A short label for messages: `'name' (OpType)`; for an unnamed node `OpType -> 'output'`
  /// (its first output, which `print` shows), or `OpType #index` when it has no output.
  public var label: String {
    if !name.isEmpty { return "'\(name)' (\(opType))" }
    if let output = outputs.first(where: { $0 != nil }) ?? nil { return "\(opType) -> '\(output.name)'" }
    let index = graph?.index(of: self)
    return index.map { "\(opType) #\($0)" } ?? opType
  }

}
