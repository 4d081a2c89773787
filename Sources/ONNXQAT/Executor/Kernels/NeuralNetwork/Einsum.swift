import Foundation

/// Einsum (opsets 12+): Einstein summation on float32 (double, float16 and bfloat16 through
/// float32). `Y[output labels] = sum over the other labels of prod_i X_i[labels_i]`, with "..."
/// for broadcast leading axes and the implicit form (no "->": the labels used once, sorted,
/// after the ellipsis axes). Repeated labels in one operand take its diagonal; labels of one
/// operand that nothing else needs are summed out first; operands are then contracted pairwise,
/// each pair as a batched matrix product [batch, m, k] x [batch, k, n] through the shared GEMM.
enum EinsumKernel {
  /// An operand or intermediate: one label per axis and its float32 elements, row-major.
  struct Term {
    var labels: [Int]
    var shape: [Int]
    var data: [Float]
  }

  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    guard let equation = context.string("equation")?.filter({ !$0.isWhitespace }) else {
      throw context.failure("the 'equation' attribute is missing")
    }
    guard !context.inputs.isEmpty, let first = context.inputs[0] else {
      throw context.failure("expected at least one input")
    }
    var terms: [Term] = []
    for index in context.inputs.indices {
      let tensor = try NeuralNetworkFloat.input(context, index, "Inputs")
      terms.append(Term(labels: [], shape: tensor.shape, data: tensor.values(Float.self)))
    }
    let output = try parse(equation, &terms, context)
    var sizes: [Int: Int] = [:]
    for term in terms {
      for (label, size) in zip(term.labels, term.shape) {
        if let known = sizes[label], known != size, known != 1, size != 1 {
          throw context.failure("equation '\(equation)': a label has sizes \(known) and \(size)")
        }
        sizes[label] = max(sizes[label] ?? size, size)
      }
    }
    terms = terms.map(diagonal)
    let threads = NeuralNetworkFloat.threads(context)
    // Sum out what no other operand and not the output needs, then contract pairwise.
    var current = terms[0]
    for index in 1..<max(terms.count, 1) {
      let later = Set(terms[(index + 1)...].flatMap(\.labels) + output)
      let right = reduce(terms[index], keep: later.union(current.labels))
      current = reduce(current, keep: later.union(right.labels))
      current = contract(current, right, keep: later, sizes: sizes, threads: threads)
    }
    current = reduce(current, keep: Set(output))
    let shape = output.map { sizes[$0] ?? 1 }
    let data = gather(current, order: output, sizes: shape)
    let result = HostTensor(.float, shape: shape, values: data)
    return [NeuralNetworkFloat.output(result, as: first.dataType)]
  }

  /// Assigns labels to `terms` and returns the output labels. Letters are their Unicode values;
  /// ellipsis axes get labels from 1000 on, aligned from the right.
  private static func parse(_ equation: String, _ terms: inout [Term], _ context: KernelContext) throws -> [Int] {
    let sides = equation.components(separatedBy: "->")
    let operands = sides[0].components(separatedBy: ",")
    guard operands.count == terms.count, sides.count <= 2 else {
      throw context.failure("equation '\(equation)' has \(operands.count) operands; expected \(terms.count)")
    }
    func letters(_ text: Substring) throws -> [Int] {
      try text.unicodeScalars.map { scalar in
        guard (65...90).contains(scalar.value) || (97...122).contains(scalar.value) else {
          throw context.failure("equation '\(equation)': '\(scalar)' is not a letter")
        }
        return Int(scalar.value)
      }
    }
    var ellipsisRank = 0
    var parsed: [(before: [Int], after: [Int], ellipsis: Bool)] = []
    for (text, term) in zip(operands, terms) {
      let parts = text.components(separatedBy: "...")
      guard parts.count <= 2 else { throw context.failure("equation '\(equation)': more than one '...' in an operand") }
      let before = try letters(Substring(parts[0]))
      let after = parts.count == 2 ? try letters(Substring(parts[1])) : []
      let named = before.count + after.count
      guard parts.count == 2 ? term.shape.count >= named : term.shape.count == named else {
        throw context.failure(
          "equation '\(equation)': operand '\(text)' does not match an input of shape \(term.shape)")
      }
      if parts.count == 2 { ellipsisRank = max(ellipsisRank, term.shape.count - named) }
      parsed.append((before, after, parts.count == 2))
    }
    for index in terms.indices {
      let (before, after, ellipsis) = parsed[index]
      let own = terms[index].shape.count - before.count - after.count
      let middle = ellipsis ? Array((1000 + ellipsisRank - own)..<(1000 + ellipsisRank)) : []
      terms[index].labels = before + middle + after
    }
    let ellipsisLabels = Array(1000..<(1000 + ellipsisRank))
    if sides.count == 2 {
      let parts = sides[1].components(separatedBy: "...")
      let before = try letters(Substring(parts[0]))
      let after = parts.count == 2 ? try letters(Substring(parts[1])) : []
      return before + (parts.count == 2 ? ellipsisLabels : []) + after
    }
    var counts: [Int: Int] = [:]
    for term in terms { for label in term.labels where label < 1000 { counts[label, default: 0] += 1 } }
    return ellipsisLabels + counts.filter { $0.value == 1 }.keys.sorted()
  }

  /// Row-major strides of `shape`.
  private static func strides(_ shape: [Int]) -> [Int] {
    var result = [Int](repeating: 1, count: shape.count)
    var step = 1
    for axis in (0..<shape.count).reversed() {
      result[axis] = step
      step *= shape[axis]
    }
    return result
  }

  /// Calls `body(offset)` for every index of `shape`, with the offset through `strides`.
  private static func walk(_ shape: [Int], _ strides: [Int], _ body: (Int) -> Void) {
    let count = shape.reduce(1, *)
    guard count > 0 else { return }
    var index = [Int](repeating: 0, count: shape.count)
    var offset = 0
    for _ in 0..<count {
      body(offset)
      var axis = shape.count - 1
      while axis >= 0 {
        index[axis] += 1
        offset += strides[axis]
        if index[axis] < shape[axis] { break }
        offset -= strides[axis] * shape[axis]
        index[axis] = 0
        axis -= 1
      }
    }
  }

  /// The term's elements in label order `order` with sizes `sizes` (labels it lacks, and axes of
  /// size 1, broadcast).
  private static func gather(_ term: Term, order: [Int], sizes: [Int]) -> [Float] {
    let own = strides(term.shape)
    let steps = zip(order, sizes).map { label, size -> Int in
      guard let axis = term.labels.firstIndex(of: label), term.shape[axis] == size, size != 1 else { return 0 }
      return own[axis]
    }
    var result = [Float](repeating: 0, count: sizes.reduce(1, *))
    term.data.withUnsafeBufferPointer { source in
      var index = 0
      walk(sizes, steps) { offset in
        result[index] = source[offset]
        index += 1
      }
    }
    return result
  }

  /// Takes the diagonal over repeated labels of one operand.
  private static func diagonal(_ term: Term) -> Term {
    guard Set(term.labels).count != term.labels.count else { return term }
    let own = strides(term.shape)
    var labels: [Int] = []
    var shape: [Int] = []
    var steps: [Int] = []
    for (axis, label) in term.labels.enumerated() {
      if let existing = labels.firstIndex(of: label) {
        steps[existing] += own[axis]
      } else {
        labels.append(label)
        shape.append(term.shape[axis])
        steps.append(own[axis])
      }
    }
    var data = [Float](repeating: 0, count: shape.reduce(1, *))
    term.data.withUnsafeBufferPointer { source in
      var index = 0
      walk(shape, steps) { offset in
        data[index] = source[offset]
        index += 1
      }
    }
    return Term(labels: labels, shape: shape, data: data)
  }

  /// Sums out the labels not in `keep`.
  private static func reduce(_ term: Term, keep: Set<Int>) -> Term {
    guard term.labels.contains(where: { !keep.contains($0) }) else { return term }
    let kept = term.labels.indices.filter { keep.contains(term.labels[$0]) }
    let shape = kept.map { term.shape[$0] }
    let target = strides(shape)
    var steps = [Int](repeating: 0, count: term.labels.count)
    for (position, axis) in kept.enumerated() { steps[axis] = target[position] }
    var data = [Float](repeating: 0, count: shape.reduce(1, *))
    var index = 0
    walk(term.shape, steps) { offset in
      data[offset] += term.data[index]
      index += 1
    }
    return Term(labels: kept.map { term.labels[$0] }, shape: shape, data: data)
  }

  /// Contracts two terms over their shared labels not in `keep`.
  private static func contract(_ a: Term, _ b: Term, keep: Set<Int>, sizes: [Int: Int], threads: Int) -> Term {
    let batch = a.labels.filter { b.labels.contains($0) && keep.contains($0) }
    let inner = a.labels.filter { b.labels.contains($0) && !keep.contains($0) }
    let rows = a.labels.filter { !b.labels.contains($0) }
    let columns = b.labels.filter { !a.labels.contains($0) }
    let size = { (labels: [Int]) in labels.map { sizes[$0] ?? 1 } }
    let (batchCount, m, k, n) = (
      size(batch).reduce(1, *), size(rows).reduce(1, *), size(inner).reduce(1, *), size(columns).reduce(1, *)
    )
    let left = gather(a, order: batch + rows + inner, sizes: size(batch + rows + inner))
    let right = gather(b, order: batch + inner + columns, sizes: size(batch + inner + columns))
    var data = [Float](repeating: 0, count: batchCount * m * n)
    left.withUnsafeBufferPointer { pa in
      right.withUnsafeBufferPointer { pb in
        data.withUnsafeMutableBufferPointer { pc in
          guard let baseA = pa.baseAddress, let baseB = pb.baseAddress, let baseC = pc.baseAddress else { return }
          for index in 0..<batchCount {
            NeuralNetworkGEMM.multiply(
              m: m, n: n, k: k, a: NeuralNetworkMatrix(baseA + index * m * k, rowStride: k),
              b: NeuralNetworkMatrix(baseB + index * k * n, rowStride: n), c: baseC + index * m * n, ldc: n,
              threads: threads)
          }
        }
      }
    }
    return Term(labels: batch + rows + columns, shape: size(batch + rows + columns), data: data)
  }
}
