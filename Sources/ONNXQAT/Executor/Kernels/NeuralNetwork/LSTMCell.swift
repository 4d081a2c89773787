import Foundation

/// The update of one LSTM batch entry at one step, once its gate pre-activations
/// `Xt*W^T + H*R^T + Wb + Rb` (i, o, f, c, `hidden` each) are known (LSTMKernel has the maths):
///
///     i = f(gi + Pi (.) C)   f = f(gf + Pf (.) C)   (or 1 - i with input_forget)   c~ = g(gc)
///     C' = f (.) C + i (.) c~      o = f(go + Po (.) C')      H' = o (.) h(C')
///
/// `update` goes gate by gate with any activations, peepholes and clip (clip applied to each
/// pre-activation before its function). `fusedDefault` is the common case (Sigmoid, Tanh, Tanh,
/// no peepholes, no clip, no input_forget) in one pass, eight units at a time, with the same
/// float operations per unit as `update`, so the two give the same bits.
struct LSTMCell {
  let hidden: Int
  let activations: (f: RecurrentActivation, g: RecurrentActivation, h: RecurrentActivation)
  /// Pi, Po, Pf of this direction (3 * hidden), nil when the node has no P.
  let peepholes: UnsafePointer<Float>?
  let inputForget: Bool
  let setup: Recurrent
  /// `hidden` floats for h(C').
  let scratch: UnsafeMutablePointer<Float>

  /// True for Sigmoid, Tanh, Tanh (what `fusedDefault` computes).
  static func isDefault(_ f: RecurrentActivation, _ g: RecurrentActivation, _ h: RecurrentActivation) -> Bool {
    if case .sigmoid = f, case .tanh = g, case .tanh = h { return true }
    return false
  }

  /// Gate by gate: `gates` (4 * hidden, overwritten), C and H updated in place, H' also to `y`.
  func update(
    _ gates: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
    y: UnsafeMutablePointer<Float>
  ) {
    let (gi, go, gf, gc) = (gates, gates + hidden, gates + 2 * hidden, gates + 3 * hidden)
    if let peepholes {
      for j in 0..<hidden {
        gi[j] += peepholes[j] * c[j]
        gf[j] += peepholes[2 * hidden + j] * c[j]
      }
    }
    setup.clipped(gi, hidden)
    setup.clipped(gf, hidden)
    setup.clipped(gc, hidden)
    activations.f.apply(gi, hidden)
    if inputForget {
      for j in 0..<hidden { gf[j] = 1 - gi[j] }
    } else {
      activations.f.apply(gf, hidden)
    }
    activations.g.apply(gc, hidden)
    for j in 0..<hidden { c[j] = gf[j] * c[j] + gi[j] * gc[j] }
    if let peepholes {
      for j in 0..<hidden { go[j] += peepholes[hidden + j] * c[j] }
    }
    setup.clipped(go, hidden)
    activations.f.apply(go, hidden)
    scratch.update(from: c, count: hidden)
    activations.h.apply(scratch, hidden)
    for j in 0..<hidden {
      h[j] = go[j] * scratch[j]
      y[j] = h[j]
    }
  }

  /// Sigmoid, Tanh, Tanh without peepholes, clip or input_forget, in one pass: `gates` is read
  /// only, C and H updated in place, H' also written to `y`.
  static func fusedDefault(
    _ gates: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
    y: UnsafeMutablePointer<Float>, hidden: Int
  ) {
    typealias Lanes = VectorExponential.Lanes
    @inline(__always) func units(_ j: Int, _ count: Int) {
      @inline(__always) func load(_ base: UnsafeMutablePointer<Float>) -> Lanes {
        if count == 8 { return UnsafeRawPointer(base + j).loadUnaligned(as: Lanes.self) }
        var lanes = Lanes()
        for lane in 0..<count { lanes[lane] = base[j + lane] }
        return lanes
      }
      @inline(__always) func store(_ lanes: Lanes, _ base: UnsafeMutablePointer<Float>) {
        if count == 8 {
          UnsafeMutableRawPointer(base + j).storeBytes(of: lanes, as: Lanes.self)
        } else {
          for lane in 0..<count { base[j + lane] = lanes[lane] }
        }
      }
      let input = VectorExponential.sigmoid(load(gates))
      let forget = VectorExponential.sigmoid(load(gates + 2 * hidden))
      let candidate = VectorExponential.tanh(load(gates + 3 * hidden))
      let cell = forget * load(c) + input * candidate
      let output = VectorExponential.sigmoid(load(gates + hidden))
      let state = output * VectorExponential.tanh(cell)
      store(cell, c)
      store(state, h)
      store(state, y)
    }
    var j = 0
    while j + 8 <= hidden {
      units(j, 8)
      j += 8
    }
    if j < hidden { units(j, hidden - j) }
  }
}
