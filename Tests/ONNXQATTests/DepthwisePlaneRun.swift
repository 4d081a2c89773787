import CIntegerKernels
import Foundation

/// Runs the float depthwise plane kernel (`qat_depthwise_plane_f32`) on one plane, on its AVX2
/// path or (`portable`) its portable loop, and returns the output's bit patterns (every element
/// is written; the output starts as NaN).
enum DepthwisePlaneRun {
  static func bits(_ x: [Float], _ w: [Float], bias: Float, _ g: qat_depthwise_geometry, portable: Bool) -> [UInt32] {
    qat_depthwise_set_portable(portable ? 1 : 0)
    defer { qat_depthwise_set_portable(0) }
    var geometry = g
    var y = [Float](repeating: .nan, count: Int(g.out_h * g.out_w))
    x.withUnsafeBufferPointer { px in
      w.withUnsafeBufferPointer { pw in
        y.withUnsafeMutableBufferPointer { py in
          guard let xb = px.baseAddress, let wb = pw.baseAddress, let yb = py.baseAddress else { return }
          qat_depthwise_plane_f32(xb, wb, bias, yb, &geometry)
        }
      }
    }
    return y.map(\.bitPattern)
  }
}
