import CIntegerKernels
import Foundation

/// Runs the float depthwise plane kernel (`qat_depthwise_plane_f32`) on one plane, on the path of
/// `level` (`levels`: AVX-512 where the CPU has it, AVX2, the portable loop), and returns the output's bit patterns (every element
/// is written; the output starts as NaN); and the loop that states the kernel's semantics.
enum DepthwisePlaneRun {
  /// The kernel's paths, widest first (`qat_depthwise_set_level`): 2 AVX-512 (AVX2 on a CPU
  /// without it), 1 AVX2, 0 the portable loop.
  static let levels: [Int32] = [2, 1, 0]

  /// `previous`: a plane run first through the same scratch, so that `x` is run with
  /// `borders_ready` (only its elements copied into the padded scratch).
  static func bits(
    _ x: [Float], _ w: [Float], bias: Float, _ g: qat_depthwise_geometry, level: Int32, previous: [Float]? = nil
  ) -> [UInt32] {
    qat_depthwise_set_level(level)
    defer { qat_depthwise_set_level(2) }
    var geometry = g
    var y = [Float](repeating: .nan, count: Int(g.out_h * g.out_w))
    // The scratch starts as NaN too: every element the kernel reads must have been written.
    var scratch = [Float](repeating: .nan, count: qat_depthwise_f32_scratch_floats(&geometry))
    let planes = previous.map { [($0, 0), (x, 1)] } ?? [(x, 0)]
    for (input, ready) in planes {
      input.withUnsafeBufferPointer { px in
        w.withUnsafeBufferPointer { pw in
          y.withUnsafeMutableBufferPointer { py in
            scratch.withUnsafeMutableBufferPointer { ps in
              guard let xb = px.baseAddress, let wb = pw.baseAddress, let yb = py.baseAddress,
                let sb = ps.baseAddress
              else { return }
              qat_depthwise_plane_f32(xb, wb, bias, yb, &geometry, sb, Int32(ready))
            }
          }
        }
      }
    }
    return y.map(\.bitPattern)
  }

  /// The stated semantics, one output element at a time: `bias + s`, where `s` starts at 0 and
  /// takes `fma(w[tap], x, s)` for every kernel tap in (ky, kx) order, a tap in the padding
  /// reading x = 0 (the order and rounding of im2col and the fused GEMM).
  static func reference(_ x: [Float], _ w: [Float], bias: Float, _ g: qat_depthwise_geometry) -> [UInt32] {
    var y = [Float](repeating: .nan, count: Int(g.out_h * g.out_w))
    for oy in 0..<Int(g.out_h) {
      for ox in 0..<Int(g.out_w) {
        var sum: Float = 0
        for ky in 0..<Int(g.kernel_h) {
          for kx in 0..<Int(g.kernel_w) {
            let iy = oy * Int(g.stride_h) - Int(g.pad_top) + ky * Int(g.dilation_h)
            let ix = ox * Int(g.stride_w) - Int(g.pad_left) + kx * Int(g.dilation_w)
            let inside = iy >= 0 && iy < Int(g.in_h) && ix >= 0 && ix < Int(g.in_w)
            sum.addProduct(w[ky * Int(g.kernel_w) + kx], inside ? x[iy * Int(g.in_w) + ix] : 0)
          }
        }
        y[oy * Int(g.out_w) + ox] = bias + sum
      }
    }
    return y.map(\.bitPattern)
  }
}
