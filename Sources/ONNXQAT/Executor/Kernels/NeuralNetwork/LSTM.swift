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
///
/// Each step adds `H * R^T` into the step's row of the input projection (computed for the whole
/// sequence at once), then updates C and H. With the default activations, no peepholes, no clip
/// and no input_forget the gates of eight units at a time are computed in one pass (LSTMCell's
/// fused form); otherwise gate by gate. Both give the same bits: the same float operations per
/// element in the same order.
enum LSTMKernel {
  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let setup = try Recurrent(context, gates: 4, defaultActivations: ["Sigmoid", "Tanh", "Tanh"])
    let (batch, hidden, directions) = (setup.batch, setup.hidden, setup.directions)
    let width = 4 * hidden
    var initialH = try setup.initialState(context, 5, "initial_h")
    var initialC = try setup.initialState(context, 6, "initial_c")
    var peepholes: [Float] = []
    if let p = try NeuralNetworkFloat.optionalInput(context, 7, "P") {
      guard p.shape == [directions, 3 * hidden] else {
        throw context.failure("input 7 'P' has shape \(p.shape); expected [\(directions), \(3 * hidden)]")
      }
      peepholes = p.values(Float.self)
    }
    let inputForget = context.int("input_forget", default: 0) != 0
    var y = [Float](repeating: 0, count: setup.sequence * directions * batch * hidden)
    // The general cell's h(C') and, for batch > 1, the gate rows of one step: allocated once.
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, hidden))
    let block = UnsafeMutablePointer<Float>.allocate(capacity: batch > 1 ? batch * width : 1)
    defer {
      scratch.deallocate()
      block.deallocate()
    }
    for d in 0..<directions {
      let (wb, rb) = setup.biases(direction: d)
      var projection = setup.projection(direction: d, add: zip(wb, rb).map { $0 + $1 })
      let activations = (setup.activations[3 * d], setup.activations[3 * d + 1], setup.activations[3 * d + 2])
      let fused =
        peepholes.isEmpty && setup.clip == nil && !inputForget
        && LSTMCell.isDefault(activations.0, activations.1, activations.2)
      let stateBase = d * batch * hidden
      projection.withUnsafeMutableBufferPointer { pBuffer in
        initialH.withUnsafeMutableBufferPointer { hBuffer in
          initialC.withUnsafeMutableBufferPointer { cBuffer in
            y.withUnsafeMutableBufferPointer { yBuffer in
              peepholes.withUnsafeBufferPointer { peepBuffer in
                guard let rows = pBuffer.baseAddress, let hState = hBuffer.baseAddress.map({ $0 + stateBase }),
                  let cState = cBuffer.baseAddress.map({ $0 + stateBase }), let output = yBuffer.baseAddress
                else { return }
                let cell = LSTMCell(
                  hidden: hidden, activations: activations,
                  peepholes: peepBuffer.baseAddress.map { $0 + d * 3 * hidden },
                  inputForget: inputForget, setup: setup, scratch: scratch)
                for step in 0..<setup.sequence {
                  // Batch 1 (the common case) adds H * R^T into the projection row in place.
                  if batch == 1 {
                    guard let t = setup.time(step: step, entry: 0, direction: d) else { continue }
                    let gates = rows + t * width
                    setup.recurrent(hState, direction: d, rowOffset: 0, count: width, into: gates, ldc: width)
                    let out = output + (t * directions + d) * hidden
                    if fused {
                      LSTMCell.fusedDefault(gates, c: cState, h: hState, y: out, hidden: hidden)
                    } else {
                      cell.update(gates, c: cState, h: hState, y: out)
                    }
                    continue
                  }
                  LSTMKernel.batchedStep(
                    step: step, direction: d, setup: setup, rows: rows, gates: block, hState: hState,
                    cState: cState, output: output, fused: fused, cell: cell)
                }
              }
            }
          }
        }
      }
    }
    return setup.outputs(y: y, states: [initialH, initialC])
  }

  /// One step of every batch entry (batch > 1): the entries' projection rows gathered into
  /// `gates` (batch x 4h), `H * R^T` added by one GEMM, then each live entry's cell update.
  private static func batchedStep(
    step: Int, direction d: Int, setup: Recurrent, rows: UnsafeMutablePointer<Float>,
    gates: UnsafeMutablePointer<Float>, hState: UnsafeMutablePointer<Float>, cState: UnsafeMutablePointer<Float>,
    output: UnsafeMutablePointer<Float>,
    fused: Bool, cell: LSTMCell
  ) {
    let (batch, hidden, directions) = (setup.batch, setup.hidden, setup.directions)
    let width = 4 * hidden
    for b in 0..<batch {
      let row = gates + b * width
      if let t = setup.time(step: step, entry: b, direction: d) {
        row.update(from: rows + (t * batch + b) * width, count: width)
      } else {
        row.update(repeating: 0, count: width)
      }
    }
    setup.recurrent(hState, direction: d, rowOffset: 0, count: width, into: gates, ldc: width)
    for b in 0..<batch {
      guard let t = setup.time(step: step, entry: b, direction: d) else { continue }
      let (row, c, h) = (gates + b * width, cState + b * hidden, hState + b * hidden)
      let out = output + ((t * directions + d) * batch + b) * hidden
      if fused {
        LSTMCell.fusedDefault(row, c: c, h: h, y: out, hidden: hidden)
      } else {
        cell.update(row, c: c, h: h, y: out)
      }
    }
  }
}
