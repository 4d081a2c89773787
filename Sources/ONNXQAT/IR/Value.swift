/// A named value in a graph: a graph input, an initializer, or a node output. It knows its
/// producer and its ordered uses, so rewrites can walk the graph in both directions.
public final class Value {
  /// One place a value is consumed: input `inputIndex` of `node`. A snapshot (`uses`) holds its
  /// node strongly, so it stays valid whatever happens to the graph afterwards.
  public struct Use: Equatable {
    public let node: Node?
    public let inputIndex: Int

    init(node: Node, inputIndex: Int) {
      self.node = node
      self.inputIndex = inputIndex
    }

    public static func == (lhs: Use, rhs: Use) -> Bool {
      lhs.node === rhs.node && lhs.inputIndex == rhs.inputIndex
    }
  }

  /// One entry of the use list. It holds its node without a reference count and without a weak
  /// reference (which would give every node a side table, and every retain and release of a node
  /// the slow path: about a tenth of an insert's time). That is safe because an entry never
  /// outlives its node: a node detaches its uses when it is removed from its graph and again in
  /// its `deinit` (`Node.detachInputs`), and every entry is made by the node itself.
  struct UseEntry {
    unowned(unsafe) let node: Node
    let inputIndex: Int
  }

  public internal(set) var name: String
  /// The type from the value's `ValueInfoProto`, when the model declared one.
  public var type: TypeInfo?
  public var docString: String?
  /// Extras of the `ValueInfoProto` that declared this value.
  public var infoExtras = WireExtras()
  /// The node whose output this is; nil for graph inputs and initializers. Held without a
  /// reference count (a node holds its outputs, not the other way round) and without a weak
  /// reference (see `UseEntry`); safe because a node clears it in its `deinit`.
  public internal(set) unowned(unsafe) var producer: Node?
  /// The index of this value among its producer's outputs.
  public internal(set) var outputIndex: Int = 0
  /// The constant payload when this value is an initializer of its graph.
  /// Set through `assignInitializer`, which keeps `hasInitializer` in step. (A stored property
  /// without observers: reading one of its fields stays a direct load, and setting it copies
  /// nothing, where an observer that tests the new value would copy the whole tensor.)
  public private(set) var initializer: Tensor?
  /// Whether `initializer` is set. Reading it costs one load, where `initializer != nil` copies
  /// the whole optional tensor (a retain and a release of each of its dozen buffers): the check
  /// planning and passes make for every node input of a large graph.
  public private(set) var hasInitializer = false

  /// Sets the constant payload (nil clears it) and `hasInitializer` with it.
  func assignInitializer(_ tensor: consuming Tensor?) {
    hasInitializer = tensor != nil
    initializer = tensor
  }
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
  var useList: [UseEntry?] = []
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
  public var uses: [Use] { useList.compactMap { $0.map { Use(node: $0.node, inputIndex: $0.inputIndex) } } }

  /// Whether any node uses this value (stops at the first use; no list is built).
  public var hasUses: Bool { useList.contains { $0 != nil } }

  /// The consuming nodes, in use order, without building the list of uses. Walk it to the end
  /// before removing nodes (it reads the entries as they were when it was made).
  var users: LazyMapSequence<LazyFilterSequence<[UseEntry?]>, Node> {
    useList.lazy.filter { $0 != nil }.map { $0.unsafelyUnwrapped.node }
  }

  /// The first consumer of this value, without building the use list (O(1) in the common case).
  public var firstUser: Node? {
    for use in useList { if let node = use?.node { return node } }
    return nil
  }

  /// The graph this value belongs to: its producer's graph, or the graph declaring it.
  public var graph: Graph? { producer?.graph ?? owningGraph }

  /// True when the value is a constant initializer (dense).
  public var isConstant: Bool { hasInitializer }

  func addUse(_ node: Node, _ index: Int) {
    useList.append(UseEntry(node: node, inputIndex: index))
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
      guard let use else { continue }
      index[UseKey(node: ObjectIdentifier(use.node), inputIndex: use.inputIndex)] = position
    }
    useIndex = index
  }
}
