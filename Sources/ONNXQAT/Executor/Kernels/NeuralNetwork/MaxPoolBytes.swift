import CIntegerKernels
import Foundation

/// MaxPool on int8 and uint8 without the Indices output over 1 or 2 spatial axes, through the C
/// kernels `qat_maxpool_u8` / `qat_maxpool_s8` (CIntegerKernels: the maximum over the kernel
/// columns of each input row, then over the kernel rows; AVX2 32 columns per vector, a portable
/// loop otherwise). The maximum of integers does not depend on grouping or order, so this equals
/// the generic loop (the first tap inside X, then any larger one), and a window with no tap
/// inside X gives the type's minimum as in the generic loop. Planes are split across threads
/// when large.
enum MaxPoolBytes {
  /// The pooled tensor (int8 when `signed`, else uint8), or nil for 3 spatial axes (the generic
  /// loop runs instead).
  static func run(
    _ x: HostTensor, signed: Bool, planes: Int, outputShape: [Int], geometry g: WindowGeometry, threads: Int
  ) -> HostTensor? {
    guard let planar = DepthwiseConv.planeGeometry(g) else { return nil }
    let result = HostTensor(uninitialized: x.dataType, shape: outputShape)
    let source = x.pointer(UInt8.self)
    let target = result.pointer(UInt8.self)
    let planeIn = g.input.reduce(1, *)
    let planeOut = g.output.reduce(1, *)
    PoolingKernel.forEachPlaneRange(planes: planes, geometry: planar, elementSize: 1, threads: threads) {
      range, scratch in
      var geometry = planar
      let input = source + range.lowerBound * planeIn
      let output = target + range.lowerBound * planeOut
      let count = range.count
      if signed {
        input.withMemoryRebound(to: Int8.self, capacity: count * planeIn) { signedInput in
          output.withMemoryRebound(to: Int8.self, capacity: count * planeOut) {
            qat_maxpool_s8(signedInput, $0, Int32(count), &geometry, scratch)
          }
        }
      } else {
        qat_maxpool_u8(input, output, Int32(count), &geometry, scratch)
      }
    }
    return result
  }
}
