import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The 8-bit depthwise plane kernel (`qat_depthwise_plane_int8`: exact int32 sums of
/// `(x - x_zp) * (w - w_zp)`, at the best level this CPU runs or the portable loop) equals the plain
/// tap-by-tap integer loop bit for bit (exact comparisons: the arithmetic is exact int32, so any
/// order of summation gives the same bits) on many geometries, and a QLinearConv depthwise node
/// (the kernel plus the fused per-plane requantization) equals onnxruntime bit for bit.
final class IntegerDepthwiseKernelTests: XCTestCase {
  /// One plane's operands: raw bytes, signedness and zero points of x and w.
  private struct Plane {
    var x: [UInt8]
    var w: [UInt8]
    var xSigned: Bool
    var wSigned: Bool
    var xZero: Int32
    var wZero: Int32
  }

  /// The stated semantics (Int8DepthwiseReference).
  private func reference(_ p: Plane, _ g: qat_depthwise_geometry) -> [Int32] {
    Int8DepthwiseReference.sums(
      x: p.x, xSigned: p.xSigned, xZero: p.xZero, w: p.w, wSigned: p.wSigned, wZero: p.wZero, geometry: g)
  }

  /// The C kernel's output (every element preset to a marker, so an unwritten one shows).
  private func kernel(_ p: Plane, _ g: qat_depthwise_geometry, portable: Bool) -> [Int32] {
    qat_depthwise_int8_set_portable(portable ? 1 : 0)
    defer { qat_depthwise_int8_set_portable(0) }
    var geometry = g
    var y = [Int32](repeating: 0x7EAD_BEEF, count: Int(g.out_h) * Int(g.out_w))
    let scratch = UnsafeMutableRawPointer.allocate(
      byteCount: qat_depthwise_int8_scratch_bytes(&geometry) + 1, alignment: 16)
    defer { scratch.deallocate() }
    p.x.withUnsafeBytes { px in
      p.w.withUnsafeBytes { pw in
        y.withUnsafeMutableBufferPointer { py in
          guard let xb = px.baseAddress, let wb = pw.baseAddress, let yb = py.baseAddress else { return }
          // An odd scratch address: the kernel aligns its parts itself.
          qat_depthwise_plane_int8(
            xb, p.xSigned ? 1 : 0, p.xZero, wb, p.wSigned ? 1 : 0, p.wZero, yb, &geometry, scratch + 1)
        }
      }
    }
    return y
  }

  /// Random bytes and zero points for geometry `g`.
  private func plane(_ g: qat_depthwise_geometry, xSigned: Bool, wSigned: Bool, using random: inout SplitMix) -> Plane {
    let xCount = Int(g.in_h) * Int(g.in_w)
    let wCount = Int(g.kernel_h) * Int(g.kernel_w)
    func zero(_ signed: Bool) -> Int32 {
      signed ? Int32.random(in: -128...127, using: &random) : Int32.random(in: 0...255, using: &random)
    }
    return Plane(
      x: (0..<xCount).map { _ in UInt8.random(in: 0...255, using: &random) },
      w: (0..<wCount).map { _ in UInt8.random(in: 0...255, using: &random) }, xSigned: xSigned, wSigned: wSigned,
      xZero: zero(xSigned), wZero: zero(wSigned))
  }

  /// Kernels 1x1 to 5x5, strides 1 to 3 on each axis, dilations 1 and 2, uneven random pads,
  /// planes narrower and wider than one AVX2 step (16 outputs), every signedness pair.
  func testAVX2AndPortablePlanesEqualTheTapByTapLoop() {
    var random = SplitMix(seed: 3)
    var compared = 0
    for kernelH in 1...5 {
      for kernelW in 1...5 {
        for strides in [(1, 1), (2, 2), (3, 3), (1, 2), (2, 1)] {
          for dilations in [(1, 1), (2, 2), (1, 2)] {
            for (xSigned, wSigned) in [(false, true), (true, true), (false, false), (true, false)] {
              let pads = (
                Int.random(in: 0...2, using: &random), Int.random(in: 0...3, using: &random),
                Int.random(in: 0...2, using: &random), Int.random(in: 0...1, using: &random)
              )
              guard
                let g = Int8DepthwiseReference.geometry(
                  height: Int.random(in: 1...9, using: &random), width: Int.random(in: 1...70, using: &random),
                  kernel: (kernelH, kernelW), strides: strides, dilations: dilations, pads: pads)
              else { continue }
              let p = plane(g, xSigned: xSigned, wSigned: wSigned, using: &random)
              let expected = reference(p, g)
              for portable in [false, true] {
                XCTAssertEqual(
                  kernel(p, g, portable: portable), expected,
                  "kernel \(kernelH)x\(kernelW) strides \(strides) dilations \(dilations) pads \(pads) "
                    + "in \(g.in_h)x\(g.in_w) signed \(xSigned)/\(wSigned) portable \(portable)")
                compared += expected.count
              }
            }
          }
        }
      }
    }
    XCTAssertGreaterThan(compared, 100_000)
  }

  /// MobileNet's planes (56x56 and 28x28, 3x3, pads 1, strides 1 and 2) with extreme operands:
  /// every difference at +-255, the largest products the kernel can see.
  func testExtremeOperandsOnMobileNetPlanes() {
    for (size, stride) in [(56, 1), (56, 2), (28, 1), (28, 2), (14, 1)] {
      guard
        let g = Int8DepthwiseReference.geometry(
          height: size, width: size, kernel: (3, 3), strides: (stride, stride), dilations: (1, 1), pads: (1, 1, 1, 1))
      else { return XCTFail("no geometry for \(size)") }
      for (xByte, xZero, wByte, wZero) in [(255, 0, 0, 255), (0, 255, 0, 255), (255, 0, 255, 0)]
        as [(UInt8, Int32, UInt8, Int32)]
      {
        let p = Plane(
          x: [UInt8](repeating: xByte, count: size * size), w: [UInt8](repeating: wByte, count: 9), xSigned: false,
          wSigned: false, xZero: xZero, wZero: wZero)
        let expected = reference(p, g)
        for portable in [false, true] {
          XCTAssertEqual(kernel(p, g, portable: portable), expected, "size \(size) stride \(stride) x \(xByte)")
        }
      }
    }
  }

  /// 40,000 taps of 255 * -255 sum past Int32.min: the kernel wraps like the int32 reference.
  func testDeepPlaneWrapsLikeInt32() throws {
    let g = try XCTUnwrap(
      Int8DepthwiseReference.geometry(
        height: 200, width: 200, kernel: (200, 200), strides: (1, 1), dilations: (1, 1), pads: (0, 0, 0, 0)))
    let p = Plane(
      x: [UInt8](repeating: 255, count: 40_000), w: [UInt8](repeating: 0, count: 40_000), xSigned: false,
      wSigned: false, xZero: 0, wZero: 255)
    XCTAssertLessThan(Int64(255) * -255 * 40_000, Int64(Int32.min))
    let expected = reference(p, g)
    for portable in [false, true] { XCTAssertEqual(kernel(p, g, portable: portable), expected) }
  }

  /// Builds QLinearConv depthwise models (uint8 or int8 x, int8 or uint8 per-channel w, int32
  /// bias; strides 1 and 2, uneven pads, dilation) with onnx, runs them in onnxruntime, and
  /// compares our outputs at 1 and 2 threads in `float` mode: bit for bit.
  func testQLinearConvDepthwiseNodeEqualsOnnxRuntime() throws {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let script = """
      import json, os, sys
      import numpy as np, onnx, onnxruntime as ort
      from onnx import TensorProto, helper, numpy_helper
      folder = sys.argv[1]
      rng = np.random.default_rng(7)
      cases = [  # (x type, w type, channels, size, kernel, strides, dilations, pads)
          ('uint8', 'int8', 32, 56, 3, 1, 1, [1, 1, 1, 1]),
          ('uint8', 'int8', 24, 29, 3, 2, 1, [1, 1, 1, 1]),
          ('int8', 'int8', 8, 23, 5, 1, 1, [2, 1, 2, 0]),
          ('uint8', 'uint8', 8, 40, 3, 2, 1, [0, 1, 1, 0]),
          ('uint8', 'int8', 6, 19, 3, 1, 2, [2, 2, 2, 2]),
          ('int8', 'int8', 5, 17, 3, 3, 1, [1, 1, 1, 1]),
      ]
      names = []
      for index, (xt, wt, c, size, k, s, d, pads) in enumerate(cases):
          xr = (0, 255) if xt == 'uint8' else (-128, 127)
          wr = (0, 255) if wt == 'uint8' else (-127, 127)
          x = rng.integers(xr[0], xr[1] + 1, size=(1, c, size, size)).astype(xt)
          w = rng.integers(wr[0], wr[1] + 1, size=(c, 1, k, k)).astype(wt)
          x_zp = np.array(rng.integers(xr[0], xr[1] + 1), dtype=xt)
          w_zp = np.zeros(c, dtype=wt) if wt == 'int8' else rng.integers(100, 156, size=c).astype(wt)
          inits = [
              numpy_helper.from_array(np.array(0.02, dtype=np.float32), 'x_scale'),
              numpy_helper.from_array(x_zp, 'x_zp'),
              numpy_helper.from_array(w, 'w'),
              numpy_helper.from_array((rng.random(c) * 0.01 + 0.001).astype(np.float32), 'w_scale'),
              numpy_helper.from_array(w_zp, 'w_zp'),
              numpy_helper.from_array(np.array(0.15, dtype=np.float32), 'y_scale'),
              numpy_helper.from_array(np.array(rng.integers(xr[0], xr[1] + 1), dtype=xt), 'y_zp'),
              numpy_helper.from_array(rng.integers(-20000, 20000, size=c).astype(np.int32), 'bias'),
          ]
          elem = TensorProto.UINT8 if xt == 'uint8' else TensorProto.INT8
          out_h = (size + pads[0] + pads[2] - d * (k - 1) - 1) // s + 1
          out_w = (size + pads[1] + pads[3] - d * (k - 1) - 1) // s + 1
          node = helper.make_node(
              'QLinearConv', ['x', 'x_scale', 'x_zp', 'w', 'w_scale', 'w_zp', 'y_scale', 'y_zp', 'bias'], ['y'],
              group=c, kernel_shape=[k, k], strides=[s, s], dilations=[d, d], pads=pads)
          graph = helper.make_graph(
              [node], 'g', [helper.make_tensor_value_info('x', elem, list(x.shape))],
              [helper.make_tensor_value_info('y', elem, [1, c, out_h, out_w])], inits)
          model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)], ir_version=8)
          onnx.checker.check_model(model)
          name = f'case{index}'
          os.makedirs(os.path.join(folder, name))
          onnx.save(model, os.path.join(folder, name, 'model.onnx'))
          options = ort.SessionOptions()
          options.intra_op_num_threads = 1
          session = ort.InferenceSession(model.SerializeToString(), options, providers=['CPUExecutionProvider'])
          y = session.run(None, {'x': x})[0]
          with open(os.path.join(folder, name, 'input_0.pb'), 'wb') as f:
              f.write(numpy_helper.from_array(x).SerializeToString())
          with open(os.path.join(folder, name, 'output_0.pb'), 'wb') as f:
              f.write(numpy_helper.from_array(y).SerializeToString())
          names.append(name)
      json.dump(names, open(os.path.join(folder, 'index.json'), 'w'))
      """
    let scriptPath = folder + "/depthwise_cases.py"
    try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
    let result = try TestSupport.run(TestSupport.python, [scriptPath, folder])
    XCTAssertEqual(result.status, 0, result.stderr)
    let names = try JSONDecoder().decode(
      [String].self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/index.json")))
    XCTAssertEqual(names.count, 6)
    var compared = 0
    for name in names {
      let model = try ModelLoader.load(path: "\(folder)/\(name)/model.onnx")
      let x = try HostTensor(try TensorFile.load(path: "\(folder)/\(name)/input_0.pb"))
      let expected = try HostTensor(try TensorFile.load(path: "\(folder)/\(name)/output_0.pb"))
      for threads in [1, 2] {
        var options = ExecutionOptions()
        options.threads = threads
        let outputs = try Interpreter(model: model, options: options).run(["x": x])
        let y = try XCTUnwrap(outputs["y"], name)
        XCTAssertEqual(y.dataType, expected.dataType, name)
        XCTAssertEqual(y.shape, expected.shape, name)
        guard y.shape == expected.shape else { continue }
        let same = (0..<y.count).filter { y.element(at: $0) == expected.element(at: $0) }.count
        XCTAssertEqual(same, y.count, "\(name) threads \(threads): \(y.count - same) elements differ")
        compared += y.count
      }
    }
    XCTAssertGreaterThan(compared, 100_000)
  }
}
