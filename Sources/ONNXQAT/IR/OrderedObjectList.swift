/// An ordered list of distinct objects (a graph's nodes, its initializers) whose edits cost O(1)
/// amortized: append, insert next to a member, remove a member, and membership tests.
///
/// Storage: a doubly linked list over slots of an array (`next`/`previous` hold slot numbers,
/// -1 for none) and a map from object identity to slot. A removal empties its slot (a
/// tombstone); when more than half the slots are empty the list is compacted in order, so the
/// storage stays within twice the members. The ordered array and the positions are built on
/// first read after an edit and cached; appends keep a valid cache valid.
struct OrderedObjectList<Element: AnyObject> {
  private var slots: [Element?] = []
  private var next: [Int] = []
  private var previous: [Int] = []
  private var slotOf: [ObjectIdentifier: Int] = [:]
  private var head = -1
  private var tail = -1
  /// The members in order, when no edit since the last read invalidated it.
  private var orderCache: [Element]? = []
  /// The position of each member in `orderCache`, built on demand.
  private var positionCache: [ObjectIdentifier: Int]?

  /// A list holding `elements` in order (duplicates kept once, at their first place).
  init(_ elements: [Element] = []) {
    slotOf.reserveCapacity(elements.count)
    for (slot, element) in elements.enumerated() {
      guard slotOf.updateValue(slot, forKey: ObjectIdentifier(element)) == nil else {
        // A duplicate: build the list one distinct element at a time instead.
        slotOf = [:]
        for element in elements where !contains(element) { append(element) }
        return
      }
    }
    // Distinct elements: slot i holds element i, linked to its neighbours, in one sweep.
    let count = elements.count
    guard count > 0 else { return }
    slots = elements.map { $0 }
    next = (0..<count).map { $0 + 1 < count ? $0 + 1 : -1 }
    previous = (0..<count).map { $0 - 1 }
    head = 0
    tail = count - 1
    orderCache = elements
  }

  /// The number of members.
  var count: Int { slotOf.count }

  /// Whether `element` is a member.
  func contains(_ element: Element) -> Bool { slotOf[ObjectIdentifier(element)] != nil }

  /// The members in order.
  mutating func ordered() -> [Element] {
    if let cached = orderCache { return cached }
    var result: [Element] = []
    result.reserveCapacity(slotOf.count)
    var slot = head
    while slot >= 0 {
      if let element = slots[slot] { result.append(element) }
      slot = next[slot]
    }
    orderCache = result
    return result
  }

  /// The position of `element` in `ordered()`, or nil when it is not a member.
  mutating func position(of element: Element) -> Int? {
    let id = ObjectIdentifier(element)
    guard slotOf[id] != nil else { return nil }
    if let positions = positionCache { return positions[id] }
    var positions: [ObjectIdentifier: Int] = [:]
    positions.reserveCapacity(slotOf.count)
    for (index, member) in ordered().enumerated() { positions[ObjectIdentifier(member)] = index }
    positionCache = positions
    return positions[id]
  }

  /// Calls `body` on every member, in no particular order (no ordered list is built).
  func forEach(_ body: (Element) -> Void) {
    for element in slots { if let element { body(element) } }
  }

  /// Makes room for `capacity` members without growing the storage step by step.
  mutating func reserveCapacity(_ capacity: Int) {
    slots.reserveCapacity(capacity)
    next.reserveCapacity(capacity)
    previous.reserveCapacity(capacity)
    slotOf.reserveCapacity(capacity)
  }

  /// Adds `element` (not a member) at the end.
  mutating func append(_ element: Element) {
    let slot = newSlot(element)
    link(slot, after: tail)
    if orderCache != nil {
      positionCache?[ObjectIdentifier(element)] = orderCache?.count
      orderCache?.append(element)
    }
  }

  /// Adds `element` (not a member) just before `anchor` (a member); false when it is not one.
  @discardableResult
  mutating func insert(_ element: Element, before anchor: Element) -> Bool {
    guard let anchorSlot = slotOf[ObjectIdentifier(anchor)] else { return false }
    link(newSlot(element), after: previous[anchorSlot])
    invalidate()
    return true
  }

  /// Adds `element` (not a member) just after `anchor` (a member, or nil for the front); false
  /// when the anchor is not a member.
  @discardableResult
  mutating func insert(_ element: Element, after anchor: Element?) -> Bool {
    var anchorSlot = -1
    if let anchor {
      guard let slot = slotOf[ObjectIdentifier(anchor)] else { return false }
      anchorSlot = slot
    }
    link(newSlot(element), after: anchorSlot)
    invalidate()
    return true
  }

  /// Removes `element`; false when it is not a member.
  @discardableResult
  mutating func remove(_ element: Element) -> Bool {
    guard let slot = slotOf.removeValue(forKey: ObjectIdentifier(element)) else { return false }
    let before = previous[slot]
    let after = next[slot]
    if before >= 0 { next[before] = after } else { head = after }
    if after >= 0 { previous[after] = before } else { tail = before }
    slots[slot] = nil
    if after < 0, orderCache != nil {
      // Removing the last member keeps the cached order valid (a common case: undoing an append).
      orderCache?.removeLast()
      positionCache?[ObjectIdentifier(element)] = nil
    } else {
      invalidate()
    }
    if slots.count > 64 && 2 * slotOf.count < slots.count { compact() }
    return true
  }

  /// Replaces every member by `elements`, in order.
  mutating func replaceAll(with elements: [Element]) { self = OrderedObjectList(elements) }

  private mutating func newSlot(_ element: Element) -> Int {
    let slot = slots.count
    slots.append(element)
    next.append(-1)
    previous.append(-1)
    slotOf[ObjectIdentifier(element)] = slot
    return slot
  }

  /// Links `slot` after `anchor` (-1: at the front).
  private mutating func link(_ slot: Int, after anchor: Int) {
    let following = anchor >= 0 ? next[anchor] : head
    previous[slot] = anchor
    next[slot] = following
    if anchor >= 0 { next[anchor] = slot } else { head = slot }
    if following >= 0 { previous[following] = slot } else { tail = slot }
  }

  private mutating func invalidate() {
    orderCache = nil
    positionCache = nil
  }

  /// Rebuilds the slots in order, without tombstones.
  private mutating func compact() {
    let members = ordered()
    self = OrderedObjectList(members)
  }
}
