import Foundation

/// RNN (opsets 1, 7, 14, 22): the simple recurrent cell, W [dirs, h, input], R [dirs, h, h],
/// B [dirs, 2h], activation f per direction (default Tanh):
///
///     H' = f(Xt*Wi + H*Ri + Wbi + Rbi)
///
/// Forward, reverse and bidirectional; `clip`; sequence_lens; initial_h; layout 0 and 1
/// (opset 14+). Outputs Y and Y_h.
enum RNNKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let setup = try Recurrent(context, gates: 1, defaultActivations: ["Tanh"])
    let (batch, hidden, directions) = (setup.batch, setup.hidden, setup.directions)
    var state = try setup.initialState(context, 5, "initial_h")
    var y = [Float](repeating: 0, count: setup.sequence * directions * batch * hidden)
    var gates = [Float](repeating: 0, count: batch * hidden)
    for d in 0..<directions {
      let (wb, rb) = setup.biases(direction: d)
      let projection = setup.projection(direction: d, add: zip(wb, rb).map { $0 + $1 })
      let activation = setup.activations[d]
      let stateBase = d * batch * hidden
      state.withUnsafeMutableBufferPointer { sBuffer in
        gates.withUnsafeMutableBufferPointer { gBuffer in
          guard let hState = sBuffer.baseAddress.map({ $0 + stateBase }), let g = gBuffer.baseAddress else { return }
          for step in 0..<setup.sequence {
            for b in 0..<batch {
              let row = g + b * hidden
              if let t = setup.time(step: step, entry: b, direction: d) {
                for j in 0..<hidden { row[j] = projection[(t * batch + b) * hidden + j] }
              } else {
                row.update(repeating: 0, count: hidden)
              }
            }
            setup.recurrent(hState, direction: d, rowOffset: 0, count: hidden, into: g, ldc: hidden)
            for b in 0..<batch {
              guard let t = setup.time(step: step, entry: b, direction: d) else { continue }
              let row = g + b * hidden
              setup.clipped(row, hidden)
              activation.apply(row, hidden)
              let out = ((t * directions + d) * batch + b) * hidden
              for j in 0..<hidden {
                hState[b * hidden + j] = row[j]
                y[out + j] = row[j]
              }
            }
          }
        }
      }
    }
    return setup.outputs(y: y, states: [state])
  }
}
