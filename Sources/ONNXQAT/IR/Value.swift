/// A named value in a graph: a graph input, an initializer, or a node output. It knows its
/// producer and its ordered uses, so rewrites can walk the graph in both directions.
public final class Value {
  /// One place a value is consumed: input `inputIndex` of `node`.
  public struct Use: Equatable {
    public private(set) weak var node: Node?
    public let inputIndex: Int

    init(node: Node, inputIndex: Int) {
      self.node = node
      self.inputIndex = inputIndex
    }

    public static func == (lhs: Use, rhs: Use) -> Bool {
      lhs.node === rhs.node && lhs.inputIndex == rhs.inputIndex
    }
  }

  public internal(set) var name: String
  /// The type from the value's `ValueInfoProto`, when the model declared one.
  public var type: TypeInfo?
  public var docString: String?
  /// Extras of the `ValueInfoProto` that declared this value.
  public var infoExtras = WireExtras()
  /// The node whose output this is; nil for graph inputs and initializers.
  public internal(set) weak var producer: Node?
  /// The index of this value among its producer's outputs.
  public internal(set) var outputIndex: Int = 0
  /// The constant payload when this value is an initializer of its graph.
  public internal(set) var initializer: Tensor?
  /// The constant payload when this value is a sparse initializer of its graph.
  public internal(set) var sparseInitializer: SparseTensor? {
    get { sparseStorage?.tensor }
    set { sparseStorage = newValue.map(SparseStorage.init) }
  }
  /// Sparse initializers are rare, and a `SparseTensor` held inline (two tensors) would more than
  /// double every value's size: in a graph of 100,000 nodes that is over 100 MB of memory touched.
  private var sparseStorage: SparseStorage?
  private final class SparseStorage {
    let tensor: SparseTensor
    init(_ tensor: SparseTensor) { self.tensor = tensor }
  }
  /// The graph that declares this value as an input or initializer (node outputs: see `producer`).
  public internal(set) weak var owningGraph: Graph?
  /// Uses in the order attached; nil marks a removed use (a tombstone, compacted away when more
  /// than half the entries are). Values with many users (a shared scale or weight) get an index
  /// from (node, input) to entry, so that removing a use costs O(1) instead of a search.
  var useList: [Use?] = []
  private var useIndex: [UseKey: Int]?
  private var liveUseEntries = 0
  /// Uses beyond which removals go through `useIndex`.
  private static let indexedUseCount = 16

  private struct UseKey: Hashable {
    let node: ObjectIdentifier
    let inputIndex: Int
  }

  public init(name: String, type: TypeInfo? = nil) {
    self.name = name
    self.type = type
  }

  /// The consumers of this value, in the order they were attached.
  public var uses: [Use] { useList.compactMap { $0?.node == nil ? nil : $0 } }

  /// Whether any node uses this value (stops at the first use; no list is built).
  public var hasUses: Bool { useList.contains { $0?.node != nil } }

  /// The consuming nodes, in use order, without building the list of uses.
  var users: LazyMapSequence<LazyFilterSequence<LazyMapSequence<[Use?], Node?>>, Node> {
    useList.lazy.map { $0?.node }.filter { $0 != nil }.map { $0.unsafelyUnwrapped }
  }

  /// The first consumer of this value, without building the use list (O(1) in the common case).
  public var firstUser: Node? {
    for use in useList { if let node = use?.node { return node } }
    return nil
  }

  /// The graph this value belongs to: its producer's graph, or the graph declaring it.
  public var graph: Graph? { producer?.graph ?? owningGraph }

  /// True when the value is a constant initializer (dense).
  public var isConstant: Bool { initializer != nil }

  func addUse(_ node: Node, _ index: Int) {
    useList.append(Use(node: node, inputIndex: index))
    liveUseEntries += 1
    if useIndex != nil {
      useIndex?[UseKey(node: ObjectIdentifier(node), inputIndex: index)] = useList.count - 1
    } else if useList.count > Self.indexedUseCount {
      rebuildUseIndex()
    }
  }

  func removeUse(_ node: Node, _ index: Int) {
    guard useIndex != nil else {
      // Few uses: a short search, and the list stays dense.
      if let position = useList.firstIndex(where: { $0?.node === node && $0?.inputIndex == index }) {
        useList.remove(at: position)
        liveUseEntries -= 1
      }
      return
    }
    let key = UseKey(node: ObjectIdentifier(node), inputIndex: index)
    guard let position = useIndex?.removeValue(forKey: key), useList[position]?.node === node else { return }
    useList[position] = nil
    liveUseEntries -= 1
    if 2 * liveUseEntries < useList.count {
      useList = useList.filter { $0 != nil }
      liveUseEntries = useList.count
      if useList.count > Self.indexedUseCount { rebuildUseIndex() } else { useIndex = nil }
    }
  }

  private func rebuildUseIndex() {
    var index: [UseKey: Int] = [:]
    index.reserveCapacity(useList.count)
    for (position, use) in useList.enumerated() {
      guard let use, let node = use.node else { continue }
      index[UseKey(node: ObjectIdentifier(node), inputIndex: use.inputIndex)] = position
    }
    useIndex = index
  }
}
