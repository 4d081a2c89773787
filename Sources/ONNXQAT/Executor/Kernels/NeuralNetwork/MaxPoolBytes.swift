import Foundation

/// MaxPool on int8 and uint8 without the Indices output, through MaxPoolFloat: every 8-bit value
/// is exact as a Float and the maximum does not depend on the representation, so converting X to
/// Float, pooling and converting back gives the generic loop's bytes; a window with no tap inside
/// X (-infinity in MaxPoolFloat) becomes the type's minimum, as in the generic loop.
enum MaxPoolBytes {
  static func run<T: FixedWidthInteger>(
    _ x: HostTensor, _: T.Type, planes: Int, outputShape: [Int], geometry: WindowGeometry, threads: Int
  ) -> HostTensor {
    let floats = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, x.count))
    let pooled = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, outputShape.reduce(1, *)))
    defer {
      floats.deallocate()
      pooled.deallocate()
    }
    let source = x.pointer(T.self)
    for i in 0..<x.count { floats[i] = Float(source[i]) }
    MaxPoolFloat.run(floats, pooled, planes: planes, geometry: geometry, threads: threads)
    let result = HostTensor(uninitialized: x.dataType, shape: outputShape)
    let target = result.pointer(T.self)
    let lowest = Float(T.min)
    for i in 0..<result.count { target[i] = T(Swift.max(lowest, pooled[i])) }
    return result
  }
}
