import Foundation

/// Moves integer-list attributes to int64 constant inputs, as opsets 5, 10, 13 and 18 did for
/// shapes, axes, slice bounds, split sizes and TopK's k.
///
/// Spec changes: Reshape-5 `shape`; Slice-10 `starts`, `ends`, `axes`; TopK-10 `k` (a 1-element
/// tensor K); Squeeze-13, Unsqueeze-13 and ReduceSum-13 `axes`; Split-13 `split`; ReduceL1,
/// ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceMax, ReduceMean, ReduceMin, ReduceProd and
/// ReduceSumSquare-18 `axes`. Each attribute becomes the input at the same meaning and
/// position; an absent optional attribute becomes an absent input (for the Reduce ops an
/// absent `axes` input with `noop_with_empty_axes = 0`, the default, still reduces every axis,
/// and an empty `axes` list meant the same).
/// Maths: unchanged; the same integers are read from an input instead of an attribute.
///
/// Before (opset 11):  `y = Unsqueeze <axes = [0, 2]> (x)`
/// After (opset 13):   `y = Unsqueeze (x, axes)`  with initializer `int64[2] axes = {0, 2}`
///
/// Skip cases:
/// 1. The node already has inputs where the new ones go (a malformed old node); refused.
/// 2. A required attribute (Reshape `shape`, Unsqueeze `axes`, Slice `starts`/`ends`, TopK
///    `k`) is missing or not a list of integers; refused.
struct AttributesToInputs: OpsetConversion {
  /// One attribute and the input it becomes.
  struct Move {
    var attribute: String
    var required: Bool
    /// Written as a 1-element tensor of shape [1] (TopK's K) instead of a 1-D list.
    var single = false
    /// An empty list means the same as an absent attribute (Squeeze, Reduce axes).
    var emptyMeansAbsent = false
  }

  let name: String
  /// The attributes, in the order of the inputs they become (starting at `firstInput`).
  let moves: [Move]
  var firstInput = 1

  func match(_ node: Node, _ context: OpsetConversionContext) -> RuleMatch {
    guard moves.contains(where: { node.attribute($0.attribute) != nil }) || moves.contains(where: \.required) else {
      return .noMatch
    }
    // Skip 1.
    guard node.inputs.count == firstInput else {
      return .refused("\(node.label) has \(node.inputs.count) inputs; expected \(firstInput) before opset conversion")
    }
    var lists: [[Int64]?] = []
    for move in moves {
      let attribute = node.attribute(move.attribute)
      switch attribute?.value {
      case .ints(let values)?:
        lists.append(move.emptyMeansAbsent && values.isEmpty ? nil : values)
      case .int(let value)? where move.single:
        lists.append([value])
      case nil where !move.required:
        lists.append(nil)
      default:
        // Skip 2.
        return .refused("attribute \(move.attribute) of \(node.label) is missing or not a list of integers")
      }
    }
    while let last = lists.last, last == nil { lists.removeLast() }
    let names = Set(moves.map(\.attribute))
    return .rewrite { rewriter in
      let base = context.base(node)
      for (move, list) in zip(moves, lists) {
        guard let list else {
          node.appendInput(nil)
          continue
        }
        let value = try context.addInt64s(
          base + "_" + move.attribute, list, shape: move.single ? [1] : [list.count], rewriter)
        node.appendInput(value)
      }
      node.dropAttributes(names)
    }
  }
}
