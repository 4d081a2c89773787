import Foundation

/// One conversion of a node's form across ai.onnx opset changes, listed in `OpsetConversionTable`.
///
/// Like a `RewriteRule`, `match` inspects the node without changing anything and answers
/// `.noMatch` (the node already has the form the newer opset expects), `.refused(reason)` (the
/// node cannot be converted; `UpgradeOpset` then throws and leaves the model as it was) or
/// `.rewrite` (the edit, performed only after every node of the model has been checked).
/// Conversions of one node touch disjoint parts of it (an attribute each), so several can apply
/// to the same node; the closure reads the node's inputs when it runs, not when it matched.
protocol OpsetConversion {
  /// The name counted in the rewrite log, e.g. "unsqueeze-axes-to-input".
  var name: String { get }
  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch
}

/// Fresh value and node names, unique across the whole model: a subgraph must not define a name
/// an enclosing graph already defines.
final class ModelNames {
  private var values: Set<String>
  private var nodes: Set<String>

  init(_ model: Model) {
    var values = Set<String>()
    var nodes = Set<String>()
    for graph in model.allGraphs {
      values.formUnion(graph.definedNames)
      values.formUnion(graph.outputs.map(\.name))
      nodes.formUnion(graph.nodes.map(\.name))
    }
    self.values = values
    self.nodes = nodes
  }

  /// A value name derived from `base` that nothing in the model uses yet.
  func value(_ base: String) -> String { Self.fresh(base, in: &values) }

  /// A node name derived from `base` (empty stays empty).
  func node(_ base: String) -> String { base.isEmpty ? base : Self.fresh(base, in: &nodes) }

  private static func fresh(_ base: String, in taken: inout Set<String>) -> String {
    var candidate = base
    var counter = 1
    while taken.contains(candidate) {
      candidate = "\(base)_\(counter)"
      counter += 1
    }
    taken.insert(candidate)
    return candidate
  }
}

/// Where a node being converted lives: its graph, the opset versions involved, and the edits a
/// conversion needs (constants, new nodes, replacing an output while keeping its name).
final class OpsetConversionContext {
  let model: Model
  let graph: Graph
  /// The ai.onnx opset the node was written for.
  let fromVersion: Int64
  /// The ai.onnx opset the node is converted to.
  let targetVersion: Int64
  /// New constants become `Constant` nodes instead of initializers: function bodies hold no
  /// initializers, and before IR version 4 every initializer also had to be a graph input.
  let constantsAsNodes: Bool
  let names: ModelNames

  init(
    model: Model, graph: Graph, fromVersion: Int64, targetVersion: Int64, constantsAsNodes: Bool,
    names: ModelNames
  ) {
    self.model = model
    self.graph = graph
    self.fromVersion = fromVersion
    self.targetVersion = targetVersion
    self.constantsAsNodes = constantsAsNodes
    self.names = names
  }

  /// True when the upgrade passes opset `version` (the node's form changes there).
  func crosses(_ version: Int64) -> Bool { fromVersion < version && version <= targetVersion }

  /// A base for new names: the node's name, or its first output's name for unnamed nodes.
  func base(_ node: Node) -> String {
    if !node.name.isEmpty { return node.name }
    return node.output?.name ?? node.opType.lowercased()
  }

  // MARK: Edits (called from rewrite closures only)

  /// Adds a constant holding `tensor`, as an initializer or a `Constant` node just before the
  /// rewriter's anchor.
  func addConstant(_ base: String, _ tensor: HostTensor, _ rewriter: Rewriter) throws -> Value {
    let name = names.value(base)
    if constantsAsNodes {
      let node = Node(
        opType: "Constant", name: names.node(base), inputs: [], outputNames: [name],
        attributes: [Attribute(name: "value", .tensor(tensor.irTensor(name: nil)))])
      try rewriter.graph.insert(node, before: rewriter.anchor)
      guard let output = node.output else {
        throw ONNXQATError.refusedEdit("constant node for '\(name)' has no output")
      }
      return output
    }
    return try rewriter.graph.addInitializer(named: name, tensor.irTensor(name: name))
  }

  /// An int64 constant of shape `[values.count]` (or `shape` when given).
  func addInt64s(_ base: String, _ values: [Int64], shape: [Int]? = nil, _ rewriter: Rewriter) throws -> Value {
    try addConstant(base, HostTensor(.int64, shape: shape ?? [values.count], values: values), rewriter)
  }

  /// Inserts a one-output node just before the anchor and returns its output.
  func insertNode(
    _ opType: String, name: String, inputs: [Value?], output: String, attributes: [Attribute] = [],
    _ rewriter: Rewriter
  ) throws -> Value {
    let node = Node(
      opType: opType, name: names.node(name), inputs: inputs, outputNames: [names.value(output)],
      attributes: attributes)
    try rewriter.graph.insert(node, before: rewriter.anchor)
    guard let value = node.output else {
      throw ONNXQATError.refusedEdit("new \(opType) node '\(node.name)' has no output")
    }
    return value
  }

  /// Replaces the single output of `node` by `value` everywhere (graph outputs and subgraphs
  /// included), removes `node`, and gives `value` the old output's name, type and value_info
  /// entry, so that the graph's interface and names stay as they were.
  func replace(_ node: Node, outputWith value: Value, _ rewriter: Rewriter) throws {
    guard let old = node.output else {
      throw ONNXQATError.refusedEdit("node \(node.label) has no output to replace")
    }
    let graph = rewriter.graph
    let name = old.name
    try graph.replaceAllUses(of: old, with: value, replacingGraphOutputs: true)
    try graph.remove(node)
    try graph.rename(value, to: name)
    value.type = old.type
    value.docString = old.docString
    if let index = graph.valueInfos.firstIndex(where: { $0 === old }) { graph.valueInfos[index] = value }
  }
}

extension Node {
  /// Removes the attributes named `names` (an opset conversion's in-place edit).
  func dropAttributes(_ names: Set<String>) {
    attributes.removeAll { names.contains($0.name) }
  }

  /// Sets attribute `attribute.name`, replacing one of the same name.
  func putAttribute(_ attribute: Attribute) {
    if let index = attributes.firstIndex(where: { $0.name == attribute.name }) {
      attributes[index] = attribute
    } else {
      attributes.append(attribute)
    }
  }

  /// The `string` attribute `name`, or `fallback`.
  func stringAttribute(_ name: String, default fallback: String) -> String {
    if case .string(let data)? = attribute(name)?.value { return String(decoding: data, as: UTF8.self) }
    return fallback
  }

  /// The `floats` attribute `name`, or nil.
  func floatsAttribute(_ name: String) -> [Float]? {
    if case .floats(let values)? = attribute(name)?.value { return values }
    return nil
  }
}

extension OpsetConversionContext {
  /// A scalar of a floating-point element type (float, double, float16) holding `value`; nil
  /// for other types.
  static func floatScalar(_ value: Float, as type: DataType) -> HostTensor? {
    switch type {
    case .float: return HostTensor(.float, shape: [], values: [value])
    case .double: return HostTensor(.double, shape: [], values: [Double(value)])
    case .float16: return HostTensor(.float16, shape: [], values: [FloatBits.floatToFloat16(value)])
    default: return nil
    }
  }
}
