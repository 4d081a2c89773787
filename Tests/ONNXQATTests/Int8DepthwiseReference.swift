import CIntegerKernels

/// The stated semantics of the 8-bit depthwise plane kernel (`qat_depthwise_plane_int8`) and the
/// plane geometries its tests draw, shared by the kernel's tests.
enum Int8DepthwiseReference {
  /// The geometry of a plane `height` x `width` with the given kernel, strides, dilations and
  /// pads (top, left, bottom, right); nil when the padded input is smaller than the kernel.
  static func geometry(
    height: Int, width: Int, kernel: (Int, Int), strides: (Int, Int), dilations: (Int, Int),
    pads: (Int, Int, Int, Int)
  ) -> qat_depthwise_geometry? {
    let extentH = (kernel.0 - 1) * dilations.0 + 1
    let extentW = (kernel.1 - 1) * dilations.1 + 1
    let paddedH = height + pads.0 + pads.2
    let paddedW = width + pads.1 + pads.3
    guard paddedH >= extentH, paddedW >= extentW else { return nil }
    return qat_depthwise_geometry(
      in_h: Int32(height), in_w: Int32(width), out_h: Int32((paddedH - extentH) / strides.0 + 1),
      out_w: Int32((paddedW - extentW) / strides.1 + 1), kernel_h: Int32(kernel.0), kernel_w: Int32(kernel.1),
      stride_h: Int32(strides.0), stride_w: Int32(strides.1), dilation_h: Int32(dilations.0),
      dilation_w: Int32(dilations.1), pad_top: Int32(pads.0), pad_left: Int32(pads.1))
  }

  /// The int32 sums of plane `x` (bytes, int8 when `xSigned`) minus `xZero` by the kernel `w`
  /// minus `wZero`, one output and one tap at a time, taps in the padding skipped, int32 wrap.
  static func sums(
    x: [UInt8], xSigned: Bool, xZero: Int32, w: [UInt8], wSigned: Bool, wZero: Int32, geometry g: qat_depthwise_geometry
  ) -> [Int32] {
    func value(_ byte: UInt8, _ signed: Bool) -> Int32 { signed ? Int32(Int8(bitPattern: byte)) : Int32(byte) }
    var y = [Int32](repeating: 0, count: Int(g.out_h) * Int(g.out_w))
    for oy in 0..<Int(g.out_h) {
      for ox in 0..<Int(g.out_w) {
        var sum: Int32 = 0
        for ky in 0..<Int(g.kernel_h) {
          for kx in 0..<Int(g.kernel_w) {
            let iy = oy * Int(g.stride_h) + ky * Int(g.dilation_h) - Int(g.pad_top)
            let ix = ox * Int(g.stride_w) + kx * Int(g.dilation_w) - Int(g.pad_left)
            guard iy >= 0, iy < Int(g.in_h), ix >= 0, ix < Int(g.in_w) else { continue }
            let xv = value(x[iy * Int(g.in_w) + ix], xSigned) &- xZero
            let wv = value(w[ky * Int(g.kernel_w) + kx], wSigned) &- wZero
            sum = sum &+ xv &* wv
          }
        }
        y[oy * Int(g.out_w) + ox] = sum
      }
    }
    return y
  }
}
