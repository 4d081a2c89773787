import Foundation

/// Merges initializers of one graph that hold the same tensor into the first of them.
///
/// The maths: two constants with equal element type, dims and payload bytes are the same
/// tensor, so every use of the later one can read the first instead; the later one is then
/// removed, saving its bytes. Candidates are bucketed by (type, dims, hash of the payload's
/// first and last 64 KiB) and merged only after a byte-for-byte comparison, so a collision
/// never merges different tensors. Payloads are compared in `raw_data` form, whichever field
/// stored them.
///
/// Before:
///
///     <ir_version: 8, opset_import: ["" : 13]>
///     g (float[2] x) => (float[2] y) <float[2] a = {1, 2}, float[2] b = {1, 2}> {
///       s = Add(x, a)
///       y = Mul(s, b)
///     }
///
/// After:
///
///     g (float[2] x) => (float[2] y) <float[2] a = {1, 2}> {
///       s = Add(x, a)
///       y = Mul(s, a)
///     }
///
/// Skip cases:
/// 1. an initializer that is a graph input and so may be overridden (IR version 4 on), or an
///    input of a subgraph, whose inputs are fixed by its op (in IR version 3 an initializer of
///    the main graph is a constant; the merged one leaves the inputs too);
/// 2. an initializer that is a graph output;
/// 3. an initializer named by a quantization annotation;
/// 4. string tensors and tensors whose payload is not available (external data not mapped);
/// 5. the main graph of a model with `training_info`: the training algorithms refer to its
///    initializers by name.
/// Function bodies hold no initializers and are not visited.
public struct MergeDuplicateInitializers: ModelPass {
  public let name = "merge-duplicate-initializers"

  public init() {}

  private struct Key: Hashable {
    var dataType: DataType
    var dims: [Int64]
    var hash: Int
  }

  public func run(_ model: Model, log: RewriteLog) throws -> PassResult {
    var merged = 0
    var savedBytes = 0
    for graph in [model.graph] + model.graph.allSubgraphs {
      if graph === model.graph && !model.trainingInfo.isEmpty { continue }  // skip case 5
      let annotated = Set(
        graph.quantizationAnnotations.flatMap { annotation -> [String] in
          [annotation.tensorName].compactMap { $0 } + annotation.quantParameterTensorNames.map(\.value)
        })
      var buckets: [Key: [(value: Value, bytes: Data)]] = [:]
      for value in graph.initializers {
        guard let tensor = value.constantTensor(in: model), tensor.elementType != .string,
          let bytes = tensor.payloadBytes()  // skip case 4
        else { continue }  // skip case 1 (overridable input)
        let isInput = graph.inputs.contains { $0 === value }
        if isInput && graph !== model.graph { continue }  // skip case 1 (subgraph input)
        if graph.outputs.contains(where: { $0 === value }) { continue }  // skip case 2
        if annotated.contains(value.name) { continue }  // skip case 3
        let key = Key(dataType: tensor.elementType, dims: tensor.dims, hash: Self.sampledHash(bytes))
        guard let first = buckets[key]?.first(where: { $0.bytes == bytes })?.value else {
          buckets[key, default: []].append((value, bytes))
          continue
        }
        try graph.replaceAllUses(of: value, with: first)
        try graph.removeInitializer(value)
        if isInput { graph.inputs.removeAll { $0 === value } }
        graph.valueInfos.removeAll { $0 === value }
        merged += 1
        savedBytes += bytes.count
      }
    }
    if merged > 0 {
      log.note(
        name, "merged \(merged) duplicate initializer\(merged == 1 ? "" : "s"), saving \(savedBytes) bytes")
    }
    return PassResult(model: model, modified: merged > 0, converged: merged == 0)
  }

  /// A hash of the first and last 64 KiB of `bytes` (all of them when shorter): enough to
  /// bucket candidates, which are then compared in full, without reading large weights twice.
  static func sampledHash(_ bytes: Data) -> Int {
    let window = 64 << 10
    var hasher = Hasher()
    hasher.combine(bytes.count)
    bytes.withUnsafeBytes { buffer in
      if buffer.count <= 2 * window {
        hasher.combine(bytes: buffer)
      } else {
        hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: buffer.prefix(window)))
        hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: buffer.suffix(window)))
      }
    }
    return hasher.finalize()
  }
}
