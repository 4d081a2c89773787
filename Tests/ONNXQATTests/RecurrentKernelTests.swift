import Foundation
import XCTest

@testable import ONNXQAT

/// The recurrent ops' fast paths: the SIMD exp, sigmoid and tanh (VectorExponential) against
/// libm, the row-vector product read from R against a double-precision reference, the LSTM's
/// fused cell against its gate-by-gate cell (same bits), the LSTM at 1 and 2 threads (same bits:
/// every sum is in an order that does not depend on the thread count), and the LSTM against
/// onnxruntime (within rtol 1e-5 + atol 1e-6: float32 summation order and exp/tanh
/// approximations differ; onnxruntime's own are not libm's either).
final class RecurrentKernelTests: XCTestCase {
  private func lstm(_ inputs: [HostTensor?], hidden: Int, threads: Int, direction: String = "forward") throws
    -> [HostTensor]
  {
    var options = ExecutionOptions()
    options.threads = threads
    let attributes = [
      Attribute(name: "hidden_size", .int(Int64(hidden))), Attribute(name: "direction", .string(Data(direction.utf8))),
    ]
    return try SingleNodeRun.run(
      "LSTM", opset: 14, inputs: inputs, attributes: attributes, outputs: 3, options: options)
  }

  private func bits(_ tensor: HostTensor) -> [UInt32] { tensor.values(Float.self).map(\.bitPattern) }

  func testVectorExponentialIsWithinAFewUlpOfLibm() {
    // Every 1/256 on [-20, 20] and a few edges; relative 1e-6 (about 8 ulp), tanh near 0 also
    // relative (its small-|x| branch is a series, not 1 - 2 / (e^2x + 1)).
    var xs = stride(from: Float(-20), through: 20, by: 1.0 / 256).map { $0 }
    xs += [-87, -80, 0.399_999_99, 0.4, -0.4, 1e-6, -1e-6, 0, 80, 88]
    while xs.count % 8 != 0 { xs.append(0.5) }
    var worst = (exp: Double(0), sigmoid: Double(0), tanh: Double(0))
    func relative(_ a: Float, _ e: Double) -> Double { e == 0 ? Double(abs(a)) : abs(Double(a) - e) / abs(e) }
    for start in stride(from: 0, to: xs.count, by: 8) {
      let lanes = SIMD8<Float>((0..<8).map { xs[start + $0] })
      let (e, s, t) = (
        VectorExponential.exp(lanes), VectorExponential.sigmoid(lanes), VectorExponential.tanh(lanes)
      )
      for lane in 0..<8 {
        let x = Double(lanes[lane])
        worst.exp = max(worst.exp, relative(e[lane], Foundation.exp(x)))
        worst.sigmoid = max(worst.sigmoid, relative(s[lane], 1 / (1 + Foundation.exp(-x))))
        worst.tanh = max(worst.tanh, relative(t[lane], Foundation.tanh(x)))
      }
    }
    let nan = SIMD8<Float>(repeating: .nan)
    XCTAssertTrue(VectorExponential.sigmoid(nan)[0].isNaN && VectorExponential.tanh(nan)[0].isNaN, "NaN stays NaN")
    let infinities = SIMD8<Float>(.infinity, -.infinity, 0, 0, 0, 0, 0, 0)
    XCTAssertEqual(VectorExponential.tanh(infinities)[0], 1)
    XCTAssertEqual(VectorExponential.tanh(infinities)[1], -1)
    XCTAssertEqual(VectorExponential.sigmoid(infinities)[0], 1)
    XCTAssertLessThanOrEqual(worst.exp, 1e-6, "exp")
    XCTAssertLessThanOrEqual(worst.sigmoid, 1e-6, "sigmoid")
    XCTAssertLessThanOrEqual(worst.tanh, 1e-6, "tanh")
  }

  func testRowVectorProductMatchesADoubleReference() {
    // n and k not multiples of 8 (the tails); relative 1e-5 of the sum of |products|.
    var numbers = SeededFloats(state: 3)
    for (n, k) in [(37, 29), (64, 128), (8, 5), (3, 16)] {
      let a = numbers.tensor([n, k]).values(Float.self)
      let x = numbers.tensor([k]).values(Float.self)
      var y = numbers.tensor([n]).values(Float.self)
      let before = y
      y.withUnsafeMutableBufferPointer { target in
        RowVectorProduct.accumulate(x, a, lda: k, k: k, n: n, into: target.baseAddress!)
      }
      for j in 0..<n {
        let products = (0..<k).map { Double(x[$0]) * Double(a[j * k + $0]) }
        let expected = Double(before[j]) + products.reduce(0, +)
        let scale = products.reduce(abs(Double(before[j]))) { $0 + abs($1) }
        XCTAssertEqual(Double(y[j]), expected, accuracy: 1e-5 * scale, "n \(n) k \(k) row \(j)")
      }
    }
  }

  func testFusedCellGivesTheSameBitsAsTheGateByGateCell() throws {
    // Zero peepholes send the LSTM through the gate-by-gate cell, none through the fused one.
    var numbers = SeededFloats(state: 5)
    let (sequence, input, hidden) = (6, 5, 13)
    for batch in [1, 3] {
      let x = numbers.tensor([sequence, batch, input], scale: 2)
      let w = numbers.tensor([1, 4 * hidden, input])
      let r = numbers.tensor([1, 4 * hidden, hidden])
      let b = numbers.tensor([1, 8 * hidden])
      let zeros = HostTensor(zeros: .float, shape: [1, 3 * hidden])
      let fused = try lstm([x, w, r, b], hidden: hidden, threads: 1)
      let general = try lstm([x, w, r, b, nil, nil, nil, zeros], hidden: hidden, threads: 1)
      for (a, g) in zip(fused, general) { XCTAssertEqual(bits(a), bits(g), "batch \(batch)") }
    }
  }

  func testOneAndTwoThreadsGiveTheSameBits() throws {
    // Large enough for the input projection's GEMM to split across threads (32 x 256 x 64);
    // batch 3 also sends H * R^T through the GEMM.
    var numbers = SeededFloats(state: 7)
    let (sequence, input, hidden) = (32, 64, 64)
    for batch in [1, 3] {
      let x = numbers.tensor([sequence, batch, input])
      let w = numbers.tensor([2, 4 * hidden, input], scale: 0.2)
      let r = numbers.tensor([2, 4 * hidden, hidden], scale: 0.2)
      let b = numbers.tensor([2, 8 * hidden])
      let one = try lstm([x, w, r, b], hidden: hidden, threads: 1, direction: "bidirectional")
      let two = try lstm([x, w, r, b], hidden: hidden, threads: 2, direction: "bidirectional")
      for (a, t) in zip(one, two) { XCTAssertEqual(bits(a), bits(t), "batch \(batch)") }
    }
  }

  func testLSTMMatchesOnnxRuntime() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    // The benchmark's shape (sequence 64, batch 1, input 64, hidden 128) and batch 2, weights
    // as onnxruntime would see trained ones (uniform +-1/sqrt(hidden)).
    let script = """
      import sys, numpy as np, onnx, onnxruntime as ort
      from onnx import helper, TensorProto
      out = sys.argv[1]
      for batch in (1, 2):
          rng = np.random.default_rng(batch)
          s, i, h = 64, 64, 128
          k = 1 / np.sqrt(h)
          feeds = {"X": rng.standard_normal((s, batch, i)).astype(np.float32),
                   "W": rng.uniform(-k, k, (1, 4 * h, i)).astype(np.float32),
                   "R": rng.uniform(-k, k, (1, 4 * h, h)).astype(np.float32),
                   "B": rng.uniform(-k, k, (1, 8 * h)).astype(np.float32)}
          node = helper.make_node("LSTM", list(feeds), ["Y", "Y_h", "Y_c"], hidden_size=h)
          graph = helper.make_graph([node], "g",
              [helper.make_tensor_value_info(n, TensorProto.FLOAT, v.shape) for n, v in feeds.items()],
              [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("Y", "Y_h", "Y_c")])
          model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
          model.ir_version = 8
          session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
          y, yh, yc = session.run(None, feeds)
          np.savez(f"{out}/in{batch}.npz", **feeds)
          np.savez(f"{out}/out{batch}.npz", Y=y, Y_h=yh, Y_c=yc)
      """
    let generate = try TestSupport.run(TestSupport.python, ["-c", script, folder])
    XCTAssertEqual(generate.status, 0, generate.stderr)
    for batch in [1, 2] {
      let feeds = try TensorInputs.load(path: "\(folder)/in\(batch).npz")
      let expected = try TensorInputs.load(path: "\(folder)/out\(batch).npz")
      let inputs = try ["X", "W", "R", "B"].map { try XCTUnwrap(feeds[$0]) }
      for threads in [1, 2] {
        let ours = try lstm(inputs, hidden: 128, threads: threads)
        for (index, name) in ["Y", "Y_h", "Y_c"].enumerated() {
          let reference = try XCTUnwrap(expected[name]).values(Float.self)
          let actual = ours[index].values(Float.self)
          XCTAssertEqual(actual.count, reference.count)
          var worst: Float = 0
          for (a, e) in zip(actual, reference) { worst = max(worst, abs(a - e) - 1e-5 * abs(e)) }
          XCTAssertLessThanOrEqual(worst, 1e-6, "\(name), batch \(batch), \(threads) threads")
        }
      }
    }
  }
}
