import Foundation

/// GRU (opsets 1, 3, 7, 14, 22), gates in ONNX order z, r, h (W [dirs, 3h, input], R [dirs, 3h, h],
/// B [dirs, 6h]), activations f, g (default Sigmoid, Tanh) per direction:
///
///     z = f(Xt*Wz + H*Rz + Wbz + Rbz)      r = f(Xt*Wr + H*Rr + Wbr + Rbr)
///     linear_before_reset = 0:  h~ = g(Xt*Wh + (r (.) H)*Rh + Rbh + Wbh)
///     linear_before_reset = 1:  h~ = g(Xt*Wh + r (.) (H*Rh + Rbh) + Wbh)
///     H' = (1 - z) (.) h~ + z (.) H
///
/// Forward, reverse and bidirectional; `clip`; sequence_lens; initial_h; layout 0 and 1
/// (opset 14+). Outputs Y and Y_h.
enum GRUKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let setup = try Recurrent(context, gates: 3, defaultActivations: ["Sigmoid", "Tanh"])
    let (batch, hidden, directions) = (setup.batch, setup.hidden, setup.directions)
    let width = 3 * hidden
    var state = try setup.initialState(context, 5, "initial_h")
    let linearBeforeReset = context.int("linear_before_reset", default: 0) != 0
    var y = [Float](repeating: 0, count: setup.sequence * directions * batch * hidden)
    var gates = [Float](repeating: 0, count: batch * width)
    var candidate = [Float](repeating: 0, count: batch * hidden)
    var resetState = [Float](repeating: 0, count: batch * hidden)
    for d in 0..<directions {
      let (wb, rb) = setup.biases(direction: d)
      var add = wb
      for j in 0..<(linearBeforeReset ? 2 * hidden : width) { add[j] += rb[j] }
      let projection = setup.projection(direction: d, add: add)
      let (fAct, gAct) = (setup.activations[2 * d], setup.activations[2 * d + 1])
      let stateBase = d * batch * hidden
      state.withUnsafeMutableBufferPointer { sBuffer in
        gates.withUnsafeMutableBufferPointer { gBuffer in
          candidate.withUnsafeMutableBufferPointer { cBuffer in
            resetState.withUnsafeMutableBufferPointer { rBuffer in
              guard let hState = sBuffer.baseAddress.map({ $0 + stateBase }), let g = gBuffer.baseAddress,
                let cand = cBuffer.baseAddress, let reset = rBuffer.baseAddress
              else { return }
              for step in 0..<setup.sequence {
                for b in 0..<batch {
                  let row = g + b * width
                  if let t = setup.time(step: step, entry: b, direction: d) {
                    for j in 0..<width { row[j] = projection[(t * batch + b) * width + j] }
                  } else {
                    row.update(repeating: 0, count: width)
                  }
                }
                // z and r
                setup.recurrent(hState, direction: d, rowOffset: 0, count: 2 * hidden, into: g, ldc: width)
                for b in 0..<batch {
                  let row = g + b * width
                  setup.clipped(row, 2 * hidden)
                  fAct.apply(row, 2 * hidden)
                }
                if linearBeforeReset {
                  for b in 0..<batch {
                    for j in 0..<hidden { cand[b * hidden + j] = rb[2 * hidden + j] }
                  }
                  setup.recurrent(hState, direction: d, rowOffset: 2 * hidden, count: hidden, into: cand, ldc: hidden)
                  for b in 0..<batch {
                    let row = g + b * width
                    for j in 0..<hidden { row[2 * hidden + j] += row[hidden + j] * cand[b * hidden + j] }
                  }
                } else {
                  for b in 0..<batch {
                    let row = g + b * width
                    for j in 0..<hidden { reset[b * hidden + j] = row[hidden + j] * hState[b * hidden + j] }
                  }
                  setup.recurrent(
                    reset, direction: d, rowOffset: 2 * hidden, count: hidden, into: g + 2 * hidden, ldc: width)
                }
                for b in 0..<batch {
                  guard let t = setup.time(step: step, entry: b, direction: d) else { continue }
                  let row = g + b * width
                  let candidateGate = row + 2 * hidden
                  setup.clipped(candidateGate, hidden)
                  gAct.apply(candidateGate, hidden)
                  let h = hState + b * hidden
                  let out = ((t * directions + d) * batch + b) * hidden
                  for j in 0..<hidden {
                    h[j] = (1 - row[j]) * candidateGate[j] + row[j] * h[j]
                    y[out + j] = h[j]
                  }
                }
              }
            }
          }
        }
      }
    }
    return setup.outputs(y: y, states: [state])
  }
}
