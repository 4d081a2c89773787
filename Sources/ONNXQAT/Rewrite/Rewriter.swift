import Foundation

/// The only way a rule changes a graph. Wraps the IR's safe edits and names new values and nodes
/// after the node being rewritten, so that results stay readable.
public final class Rewriter {
  public let graph: Graph
  public let model: Model
  /// The node the rule matched; new names derive from it.
  public let anchor: Node
  /// How the report names this firing (default: the anchor's label); set before editing,
  /// since labels of unnamed nodes count positions.
  public var subjectLabel: String?
  /// Facts the rule wants reported (e.g. "bias re-quantized"), logged with the rule's name.
  public private(set) var notes: [String] = []

  /// Records a fact for the report.
  public func note(_ message: String) { notes.append(message) }

  init(graph: Graph, model: Model, anchor: Node) {
    self.graph = graph
    self.model = model
    self.anchor = anchor
  }

  /// Adds an initializer with a fresh name derived from `base` (also listed as a graph input in
  /// an IR 3 model's main graph, as that version requires).
  @discardableResult
  public func addConstant(_ base: String, _ tensor: Tensor) throws -> Value {
    let value = try graph.addInitializer(named: graph.uniqueName(base), tensor)
    if graph === model.graph && (model.irVersion ?? 3) < 4 {
      // IR 3 requires every initializer of the main graph to be listed among its inputs.
      value.type = .tensor(tensor.elementType, tensor.dims.map { Dimension(.known($0)) })
      graph.appendInput(value)
    }
    return value
  }

  /// Creates a node with fresh output names derived from `outputBases` and inserts it just
  /// before the anchor (so that it precedes every user of the anchor's outputs).
  @discardableResult
  public func insertNode(
    _ opType: String, domain: String = "", name: String, inputs: [Value?], outputBases: [String],
    attributes: [Attribute] = []
  ) throws -> Node {
    var names: [String] = []
    for base in outputBases {
      var candidate = base
      var counter = 1
      while graph.isDefined(candidate) || names.contains(candidate) {
        candidate = "\(base)_\(counter)"
        counter += 1
      }
      names.append(candidate)
    }
    let node = Node(
      opType: opType, domain: domain, name: uniqueNodeName(name), inputs: inputs, outputNames: names,
      attributes: attributes)
    try graph.insert(node, before: anchor)
    return node
  }

  /// A node name not used in the graph, derived from `base` (empty stays empty).
  public func uniqueNodeName(_ base: String) -> String { graph.uniqueNodeName(base) }

  /// Moves every use of `old` to `new`, graph outputs included: the graph output keeps its name,
  /// because `new` takes it over when `old` was a graph output.
  public func replaceAllUses(of old: Value, with new: Value) throws {
    let isGraphOutput = graph.outputs.contains { $0 === old }
    try graph.replaceAllUses(of: old, with: new, replacingGraphOutputs: true)
    if isGraphOutput {
      if new.type == nil { new.type = old.type }
      let outputName = old.name
      try graph.rename(old, to: graph.uniqueName(outputName + "_replaced"))
      try graph.rename(new, to: outputName)
    }
  }

  /// Removes those of `nodes` whose outputs nothing uses any more (repeatedly, so a chain whose
  /// last node goes takes the others with it), and initializers left without users.
  public func removeIfUnused(_ nodes: [Node], initializers: [Value] = []) throws {
    var remaining = nodes
    while true {
      let unused = remaining.filter { node in
        node.graph === graph
          && node.outputs.compactMap { $0 }.allSatisfy { output in
            !output.hasUses && !graph.outputs.contains { $0 === output }
          }
      }
      if unused.isEmpty { break }
      try graph.remove(unused)
      remaining.removeAll { node in unused.contains { $0 === node } }
    }
    for value in initializers where !value.hasUses && !graph.outputs.contains(where: { $0 === value }) {
      if graph.isInitializer(value) && !graph.inputs.contains(where: { $0 === value }) {
        try graph.removeInitializer(value)
      }
    }
  }

}
