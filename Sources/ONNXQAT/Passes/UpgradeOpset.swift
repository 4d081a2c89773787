import Foundation

/// Raises a model's ai.onnx opset import to a target version, converting every node whose form
/// or meaning changed on the way.
///
/// Per-axis QuantizeLinear/DequantizeLinear need ai.onnx opset 13, int4, int16 and blocked ones
/// 21. Raising only the import would leave nodes written for the old opset (Unsqueeze with an
/// `axes` attribute, Softmax over a coerced 2-D input, Upsample, ...) invalid or with another
/// meaning. For every node of the ai.onnx domain, in the main graph, its If/Loop/Scan subgraphs,
/// and model-local functions that import ai.onnx below the target, the pass looks up the
/// operator's schema history (`OpsetSchemaVersions`) between the node's opset and the target:
/// changes of element types only, or additive ones (a new optional attribute whose default keeps
/// the old behaviour), need nothing; every other change needs an entry of
/// `OpsetConversionTable` (one conversion per concept, in `OpsetConversions/`).
/// Maths: each conversion keeps y = f(x) for every input; tests check this through the executor.
///
/// Before (opset 11):
/// ```
/// <ir_version: 7, opset_import: ["" : 11]>
/// g (float[2,3] x) => (float[1,2,3] y) { y = Unsqueeze <axes = [0]> (x) }
/// ```
/// After (opset 13):
/// ```
/// <ir_version: 7, opset_import: ["" : 13]>
/// g (float[2,3] x) => (float[1,2,3] y) <int64[1] y_axes = {0}> { y = Unsqueeze (x, y_axes) }
/// ```
///
/// The pass checks every node before it changes any, so a model it refuses is left untouched.
/// The ai.onnx.ml domain and other domains are left alone.
///
/// Skip cases (the pass throws `ONNXQATError.badArgument` naming the node):
/// 1. The target is not a known ai.onnx opset (1 to `OpsetSchemaVersions.latestOpset`).
/// 2. A node's operator is not an ai.onnx operator, or did not exist at the node's opset.
/// 3. A node's operator changed between the node's opset and the target without a conversion
///    in the table, or is deprecated at the target without one.
/// 4. A conversion refused the node (its reason is included).
/// 5. The model has `training_info` graphs, which share the model's import and which onnx-qat
///    keeps as bytes without converting.
public struct UpgradeOpset: ModelPass {
  public let target: Int64
  public var name: String { "upgrade-opset" }

  public init(target: Int64) {
    self.target = target
  }

  /// A group of graphs sharing one ai.onnx import: the main graph with its subgraphs, or one
  /// model-local function's body with its subgraphs.
  private struct Scope {
    var label: String
    var graphs: [Graph]
    var fromVersion: Int64
    var constantsAsNodes: Bool
    /// The function whose import to raise; nil for the model's own import.
    var function: Function?
  }

  /// The conversions planned for one node.
  private struct Plan {
    var node: Node
    var graph: Graph
    var scope: Int
    var rewrites: [(name: String, perform: (Rewriter) throws -> Void)]
  }

  public func run(_ model: Model, log: RewriteLog) throws -> PassResult {
    // Skip 1.
    guard (1...OpsetSchemaVersions.latestOpset).contains(target) else {
      throw ONNXQATError.badArgument(
        "target ai.onnx opset \(target) is not between 1 and \(OpsetSchemaVersions.latestOpset)")
    }
    let scopes = self.scopes(of: model)
    guard !scopes.isEmpty else { return PassResult(model: model, modified: false) }
    // Skip 5.
    if !model.trainingInfo.isEmpty && scopes.contains(where: { $0.function == nil }) {
      throw ONNXQATError.badArgument(
        "cannot upgrade ai.onnx opset to \(target): the model's training_info graphs use the same import"
          + " and are not converted")
    }
    let names = ModelNames(model)
    var plans: [Plan] = []
    var refusals: [String] = []
    for (index, scope) in scopes.enumerated() {
      for graph in scope.graphs {
        for node in graph.nodes where node.isStandard {
          let context = OpsetConversionContext(
            model: model, graph: graph, fromVersion: scope.fromVersion, targetVersion: target,
            constantsAsNodes: scope.constantsAsNodes, names: names)
          switch plan(node, context) {
          case .failure(let reason): refusals.append(scope.label + reason.message)
          case .success(let rewrites) where !rewrites.isEmpty:
            plans.append(Plan(node: node, graph: graph, scope: index, rewrites: rewrites))
          case .success: break
          }
        }
      }
    }
    if !refusals.isEmpty {
      let shown = refusals.prefix(8).joined(separator: "; ")
      let more = refusals.count > 8 ? "; and \(refusals.count - 8) more" : ""
      throw ONNXQATError.badArgument("cannot upgrade ai.onnx opset to \(target): \(shown)\(more)")
    }
    var counts = [[(String, Int)]](repeating: [], count: scopes.count)
    for plan in plans {
      let label = plan.node.label
      let opType = plan.node.opType
      for rewrite in plan.rewrites {
        try rewrite.perform(Rewriter(graph: plan.graph, model: model, anchor: plan.node))
        log.recordFiring(rule: rewrite.name, node: label)
      }
      if let index = counts[plan.scope].firstIndex(where: { $0.0 == opType }) {
        counts[plan.scope][index].1 += 1
      } else {
        counts[plan.scope].append((opType, 1))
      }
    }
    for (index, scope) in scopes.enumerated() {
      if let function = scope.function {
        function.opsetImports = function.opsetImports.map { raised($0) }
      } else {
        model.opsetImports = model.opsetImports.map { raised($0) }
      }
      let total = counts[index].reduce(0) { $0 + $1.1 }
      let detail = counts[index].map { "\($0.0) \($0.1)" }.joined(separator: ", ")
      log.note(
        name,
        "\(scope.label)ai.onnx opset \(scope.fromVersion) -> \(target): converted \(total) node"
          + (total == 1 ? "" : "s") + (detail.isEmpty ? "" : " (\(detail))"))
    }
    return PassResult(model: model, modified: true)
  }

  private func raised(_ entry: OpsetImport) -> OpsetImport {
    guard entry.normalizedDomain.isEmpty, let version = entry.version, version < target else { return entry }
    var raised = entry
    raised.version = target
    return raised
  }

  private func scopes(of model: Model) -> [Scope] {
    var scopes: [Scope] = []
    if let version = model.opsetVersion(""), version < target {
      scopes.append(
        Scope(
          label: "", graphs: [model.graph] + model.graph.allSubgraphs, fromVersion: version,
          constantsAsNodes: (model.irVersion ?? 3) < 4, function: nil))
    }
    for function in model.functions {
      guard let version = function.opsetImports.first(where: { $0.normalizedDomain.isEmpty })?.version,
        version < target
      else { continue }
      scopes.append(
        Scope(
          label: "function '\(function.name ?? "")': ", graphs: [function.body] + function.body.allSubgraphs,
          fromVersion: version, constantsAsNodes: true, function: function))
    }
    return scopes
  }

  private struct Refusal: Error {
    var message: String
  }

  /// The rewrites that bring `node` from the context's opset to the target, or why none can.
  private func plan(_ node: Node, _ context: OpsetConversionContext) -> Result<
    [(name: String, perform: (Rewriter) throws -> Void)], Refusal
  > {
    let from = context.fromVersion
    // Skip 2.
    guard let history = OpsetSchemaHistory(node.opType) else {
      return .failure(Refusal(message: "\(node.label) is not an ai.onnx operator"))
    }
    guard let fromSchema = history.schema(at: from) else {
      return .failure(Refusal(message: "\(node.label) does not exist at ai.onnx opset \(from)"))
    }
    let entries = OpsetConversionTable.entries(for: node.opType, from: from, to: target)
    for version in history.versions(after: from, through: target) where version.change == .changed {
      // Skip 3.
      guard entries.contains(where: { $0.changes.contains(version.since) }) else {
        return .failure(
          Refusal(
            message: "\(node.label) changed at opset \(version.since) and there is no conversion from opset \(from)"))
      }
    }
    if let targetSchema = history.schema(at: target), targetSchema.deprecated, targetSchema != fromSchema,
      !entries.contains(where: { $0.changes.contains(targetSchema.since) })
    {
      return .failure(
        Refusal(message: "\(node.label) is deprecated at opset \(targetSchema.since) and there is no conversion"))
    }
    var rewrites: [(name: String, perform: (Rewriter) throws -> Void)] = []
    for entry in entries {
      switch entry.conversion.match(node, context) {
      case .noMatch: continue
      // Skip 4.
      case .refused(let reason): return .failure(Refusal(message: reason))
      case .rewrite(let perform): rewrites.append((entry.conversion.name, perform))
      }
    }
    return .success(rewrites)
  }
}
