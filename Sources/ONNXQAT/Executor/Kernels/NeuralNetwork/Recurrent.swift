import Foundation

/// What RNN, GRU and LSTM share: reading X, W, R, B, sequence_lens and initial_h (layout 0:
/// X [seq, batch, input], states [directions, batch, hidden]; layout 1: X [batch, seq, input],
/// states [batch, directions, hidden]), the direction, clip and activation attributes, the
/// input projection `X * W^T + bias` of a whole sequence in one GEMM, the time order of each
/// batch entry (reverse runs each sequence from its own last step), and writing Y and Y_h (and
/// Y_c) in the requested layout. Steps at or past an entry's sequence length leave its state
/// unchanged and write zeros to Y.
struct Recurrent {
  let sequence: Int
  let batch: Int
  let inputSize: Int
  let hidden: Int
  let gates: Int
  let directions: Int
  let reverseOnly: Bool
  let layout: Int
  let clip: Float?
  let activations: [RecurrentActivation]
  let dataType: DataType
  /// X in layout 0.
  let x: [Float]
  let w: HostTensor
  let r: HostTensor
  /// B [directions, 2 * gates * hidden], zeros when omitted.
  let bias: [Float]
  let lengths: [Int]
  let threads: Int

  init(_ context: KernelContext, gates: Int, defaultActivations: [String]) throws {
    let raw = try context.input(0)
    dataType = raw.dataType
    let xTensor = try NeuralNetworkFloat.input(context, 0, "X")
    w = try NeuralNetworkFloat.input(context, 1, "W")
    r = try NeuralNetworkFloat.input(context, 2, "R")
    layout = context.opsetVersion >= 14 ? context.int("layout", default: 0) : 0
    guard xTensor.rank == 3 else { throw context.failure("input 0 'X' has shape \(xTensor.shape); expected rank 3") }
    sequence = layout == 0 ? xTensor.shape[0] : xTensor.shape[1]
    batch = layout == 0 ? xTensor.shape[1] : xTensor.shape[0]
    inputSize = xTensor.shape[2]
    let direction = context.string("direction", default: "forward")
    switch direction {
    case "forward", "reverse": directions = 1
    case "bidirectional": directions = 2
    default: throw context.failure("direction '\(direction)'; expected forward, reverse or bidirectional")
    }
    reverseOnly = direction == "reverse"
    guard w.rank == 3, w.shape[0] == directions, w.shape[1] % gates == 0, w.shape[2] == inputSize else {
      throw context.failure(
        "input 1 'W' has shape \(w.shape); expected [\(directions), \(gates) * hidden_size, \(inputSize)]")
    }
    hidden = context.int("hidden_size") ?? w.shape[1] / gates
    self.gates = gates
    guard w.shape[1] == gates * hidden, r.shape == [directions, gates * hidden, hidden] else {
      throw context.failure(
        "inputs 'W' \(w.shape) and 'R' \(r.shape); expected [\(directions), \(gates * hidden), \(inputSize)] and "
          + "[\(directions), \(gates * hidden), \(hidden)]")
    }
    if let b = try NeuralNetworkFloat.optionalInput(context, 3, "B") {
      guard b.shape == [directions, 2 * gates * hidden] else {
        throw context.failure("input 3 'B' has shape \(b.shape); expected [\(directions), \(2 * gates * hidden)]")
      }
      bias = b.values(Float.self)
    } else {
      bias = Array(repeating: 0, count: directions * 2 * gates * hidden)
    }
    if let lens = context.optionalInput(4) {
      guard lens.count == batch, lens.dataType == .int32 || lens.dataType == .int64 else {
        throw context.failure("input 4 'sequence_lens' is \(lens.typeDescription); expected int32[\(batch)]")
      }
      let values = (0..<batch).map { Int(lens.element(at: $0)) }
      let longest = xTensor.shape[layout == 0 ? 0 : 1]
      guard values.allSatisfy({ $0 >= 0 && $0 <= longest }) else {
        throw context.failure("input 4 'sequence_lens' is \(values); expected values in 0...\(longest)")
      }
      lengths = values
    } else {
      lengths = Array(repeating: sequence, count: batch)
    }
    clip = context.float("clip")
    let names = context.strings("activations") ?? []
    let defaults = Array([[String]](repeating: defaultActivations, count: directions).joined())
    activations = try RecurrentActivation.parse(
      names.isEmpty ? defaults : names, alphas: context.floats("activation_alpha") ?? [],
      betas: context.floats("activation_beta") ?? [], context)
    guard activations.count == defaults.count else {
      throw context.failure("activations \(names); expected \(defaults.count) names")
    }
    var values = xTensor.values(Float.self)
    if layout != 0 {
      let source = values
      for b in 0..<batch {
        for t in 0..<sequence {
          for i in 0..<inputSize {
            values[(t * batch + b) * inputSize + i] = source[(b * sequence + t) * inputSize + i]
          }
        }
      }
    }
    x = values
    threads = NeuralNetworkFloat.threads(context)
  }

  /// An initial state input ([directions, batch, hidden] in layout 0) in layout 0, zeros if omitted.
  func initialState(_ context: KernelContext, _ index: Int, _ name: String) throws -> [Float] {
    let count = directions * batch * hidden
    guard let tensor = try NeuralNetworkFloat.optionalInput(context, index, name) else {
      return Array(repeating: 0, count: count)
    }
    let expected = layout == 0 ? [directions, batch, hidden] : [batch, directions, hidden]
    guard tensor.shape == expected else {
      throw context.failure("input \(index) '\(name)' has shape \(tensor.shape); expected \(expected)")
    }
    return layout == 0
      ? tensor.values(Float.self) : Self.swapLeading(tensor.values(Float.self), batch, directions, hidden)
  }

  private static func swapLeading(_ values: [Float], _ first: Int, _ second: Int, _ inner: Int) -> [Float] {
    var result = values
    for a in 0..<first {
      for b in 0..<second {
        for i in 0..<inner { result[(b * first + a) * inner + i] = values[(a * second + b) * inner + i] }
      }
    }
    return result
  }

  func isReverse(_ direction: Int) -> Bool { reverseOnly || direction == 1 }

  /// The time index batch entry `b` processes at step `step` of `direction`, or nil past its length.
  func time(step: Int, entry b: Int, direction: Int) -> Int? {
    guard step < lengths[b] else { return nil }
    return isReverse(direction) ? lengths[b] - 1 - step : step
  }

  /// `X * W[direction]^T + add` for all time steps: [sequence * batch, gates * hidden].
  func projection(direction: Int, add: [Float]) -> [Float] {
    let width = gates * hidden
    var result = [Float](repeating: 0, count: sequence * batch * width)
    let rows = sequence * batch
    for row in 0..<rows { for j in 0..<width { result[row * width + j] = add[j] } }
    x.withUnsafeBufferPointer { px in
      result.withUnsafeMutableBufferPointer { pr in
        guard let baseX = px.baseAddress, let baseR = pr.baseAddress else { return }
        NeuralNetworkGEMM.multiply(
          m: rows, n: width, k: inputSize, a: NeuralNetworkMatrix(baseX, rowStride: inputSize),
          b: NeuralNetworkMatrix(
            w.pointer(Float.self) + direction * width * inputSize, rowStride: 1, columnStride: inputSize),
          c: baseR, ldc: width, threads: threads)
      }
    }
    return result
  }

  /// Bias B[direction] as (Wb, Rb), each gates * hidden long.
  func biases(direction: Int) -> (input: [Float], recurrent: [Float]) {
    let width = gates * hidden
    let base = direction * 2 * width
    return (Array(bias[base..<(base + width)]), Array(bias[(base + width)..<(base + 2 * width)]))
  }

  /// H (batch x hidden) times rows `rowOffset ..< rowOffset + count` of R[direction] transposed,
  /// added into `target` (batch rows of stride `ldc`). With batch 1, a row-vector product read
  /// straight from R (RowVectorProduct); otherwise the GEMM.
  func recurrent(
    _ h: UnsafePointer<Float>, direction: Int, rowOffset: Int, count: Int, into target: UnsafeMutablePointer<Float>,
    ldc: Int
  ) {
    let base = r.pointer(Float.self) + (direction * gates * hidden + rowOffset) * hidden
    if batch == 1 {
      RowVectorProduct.accumulate(h, base, lda: hidden, k: hidden, n: count, into: target)
      return
    }
    NeuralNetworkGEMM.multiply(
      m: batch, n: count, k: hidden, a: NeuralNetworkMatrix(h, rowStride: hidden),
      b: NeuralNetworkMatrix(base, rowStride: 1, columnStride: hidden), c: target, ldc: ldc, threads: threads)
  }

  /// Clamps gate pre-activations to [-clip, clip] when `clip` is set.
  func clipped(_ values: UnsafeMutablePointer<Float>, _ count: Int) {
    guard let clip else { return }
    for i in 0..<count { values[i] = max(-clip, min(clip, values[i])) }
  }

  /// Y ([sequence, directions, batch, hidden] in layout 0) and the final states
  /// ([directions, batch, hidden] each) as output tensors in the requested layout and type.
  func outputs(y: [Float], states: [[Float]]) -> [HostTensor?] {
    let yTensor: HostTensor
    if layout == 0 {
      yTensor = HostTensor(.float, shape: [sequence, directions, batch, hidden], values: y)
    } else {
      var values = y
      for t in 0..<sequence {
        for d in 0..<directions {
          for b in 0..<batch {
            for i in 0..<hidden {
              values[((b * sequence + t) * directions + d) * hidden + i] =
                y[((t * directions + d) * batch + b) * hidden + i]
            }
          }
        }
      }
      yTensor = HostTensor(.float, shape: [batch, sequence, directions, hidden], values: values)
    }
    var result: [HostTensor?] = [NeuralNetworkFloat.output(yTensor, as: dataType)]
    for state in states {
      let tensor =
        layout == 0
        ? HostTensor(.float, shape: [directions, batch, hidden], values: state)
        : HostTensor(
          .float, shape: [batch, directions, hidden], values: Self.swapLeading(state, directions, batch, hidden))
      result.append(NeuralNetworkFloat.output(tensor, as: dataType))
    }
    return result
  }
}
