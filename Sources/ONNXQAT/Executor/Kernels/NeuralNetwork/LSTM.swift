import Foundation

/// LSTM (opsets 1, 7, 14, 22), gates in ONNX order i, o, f, c (W [dirs, 4h, input], R [dirs, 4h, h],
/// B [dirs, 8h], peepholes P [dirs, 3h] as i, o, f), activations f, g, h (default Sigmoid, Tanh,
/// Tanh) per direction:
///
///     i = f(Xt*Wi + H*Ri + Pi (.) C + Wbi + Rbi)      f = f(Xt*Wf + H*Rf + Pf (.) C + Wbf + Rbf)
///     c = g(Xt*Wc + H*Rc + Wbc + Rbc)                 C' = f (.) C + i (.) c
///     o = f(Xt*Wo + H*Ro + Po (.) C' + Wbo + Rbo)     H' = o (.) h(C')
///
/// Forward, reverse and bidirectional; `clip`; `input_forget` (f = 1 - i); sequence_lens;
/// initial_h and initial_c; layout 0 and 1 (opset 14+). Outputs Y, Y_h, Y_c.
enum LSTMKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let setup = try Recurrent(context, gates: 4, defaultActivations: ["Sigmoid", "Tanh", "Tanh"])
    let (batch, hidden, directions) = (setup.batch, setup.hidden, setup.directions)
    let width = 4 * hidden
    var initialH = try setup.initialState(context, 5, "initial_h")
    var initialC = try setup.initialState(context, 6, "initial_c")
    var peepholes = [Float](repeating: 0, count: directions * 3 * hidden)
    if let p = try NeuralNetworkFloat.optionalInput(context, 7, "P") {
      guard p.shape == [directions, 3 * hidden] else {
        throw context.failure("input 7 'P' has shape \(p.shape); expected [\(directions), \(3 * hidden)]")
      }
      peepholes = p.values(Float.self)
    }
    let inputForget = context.int("input_forget", default: 0) != 0
    var y = [Float](repeating: 0, count: setup.sequence * directions * batch * hidden)
    var gates = [Float](repeating: 0, count: batch * width)
    var scratch = [Float](repeating: 0, count: hidden)
    for d in 0..<directions {
      let (wb, rb) = setup.biases(direction: d)
      let projection = setup.projection(direction: d, add: zip(wb, rb).map { $0 + $1 })
      let transposed = batch == 1 ? setup.transposedRecurrence(direction: d) : []
      let (fAct, gAct, hAct) = (setup.activations[3 * d], setup.activations[3 * d + 1], setup.activations[3 * d + 2])
      let stateBase = d * batch * hidden
      let peep = d * 3 * hidden
      initialH.withUnsafeMutableBufferPointer { hBuffer in
        initialC.withUnsafeMutableBufferPointer { cBuffer in
          gates.withUnsafeMutableBufferPointer { gBuffer in
            scratch.withUnsafeMutableBufferPointer { sBuffer in
              guard let hState = hBuffer.baseAddress.map({ $0 + stateBase }),
                let cState = cBuffer.baseAddress.map({ $0 + stateBase }), let g = gBuffer.baseAddress,
                let tmp = sBuffer.baseAddress
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
                transposed.withUnsafeBufferPointer { rt in
                  setup.recurrent(
                    hState, direction: d, rowOffset: 0, count: width, into: g, ldc: width, transposed: rt.baseAddress)
                }
                for b in 0..<batch {
                  guard let t = setup.time(step: step, entry: b, direction: d) else { continue }
                  let (gi, go, gf, gc) = (
                    g + b * width, g + b * width + hidden, g + b * width + 2 * hidden, g + b * width + 3 * hidden
                  )
                  let c = cState + b * hidden
                  let h = hState + b * hidden
                  for j in 0..<hidden {
                    gi[j] += peepholes[peep + j] * c[j]
                    gf[j] += peepholes[peep + 2 * hidden + j] * c[j]
                  }
                  setup.clipped(gi, hidden)
                  setup.clipped(gf, hidden)
                  setup.clipped(gc, hidden)
                  fAct.apply(gi, hidden)
                  if inputForget {
                    for j in 0..<hidden { gf[j] = 1 - gi[j] }
                  } else {
                    fAct.apply(gf, hidden)
                  }
                  gAct.apply(gc, hidden)
                  for j in 0..<hidden {
                    c[j] = gf[j] * c[j] + gi[j] * gc[j]
                    go[j] += peepholes[peep + hidden + j] * c[j]
                  }
                  setup.clipped(go, hidden)
                  fAct.apply(go, hidden)
                  for j in 0..<hidden { tmp[j] = c[j] }
                  hAct.apply(tmp, hidden)
                  let out = ((t * directions + d) * batch + b) * hidden
                  for j in 0..<hidden {
                    h[j] = go[j] * tmp[j]
                    y[out + j] = h[j]
                  }
                }
              }
            }
          }
        }
      }
    }
    return setup.outputs(y: y, states: [initialH, initialC])
  }
}
