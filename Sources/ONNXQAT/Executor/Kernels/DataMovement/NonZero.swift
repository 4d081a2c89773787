import Foundation

/// NonZero (opset 9+): the indices of the non-zero elements as an int64 `[rank, count]` tensor,
/// in row-major order. Zero means +0 or -0 for floating types (NaN is non-zero), 0 for integers
/// and false for bool; an empty string for strings.
extension DataMovement {
  static func nonZero(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let count = data.count
    var flags = [Bool](repeating: false, count: count)
    func scan<T: FixedWidthInteger>(_: T.Type, mask: T) {
      let p = data.pointer(T.self)
      for i in 0..<count { flags[i] = p[i] & mask != 0 }
    }
    switch data.dataType {
    case .string: flags = data.strings.map { !$0.isEmpty }
    case .float: scan(UInt32.self, mask: 0x7fff_ffff)
    case .double: scan(UInt64.self, mask: 0x7fff_ffff_ffff_ffff)
    case .float16, .bfloat16: scan(UInt16.self, mask: 0x7fff)
    default:
      if let decode = FloatBits.decoder(for: data.dataType) {
        let p = data.pointer(UInt8.self)
        for i in 0..<count { flags[i] = decode(p[i]) != 0 }
      } else {
        switch data.dataType.storageStride {
        case 1: scan(UInt8.self, mask: .max)
        case 2: scan(UInt16.self, mask: .max)
        case 4: scan(UInt32.self, mask: .max)
        case 8: scan(UInt64.self, mask: .max)
        default: throw context.failure("expected a numeric, bool or string input, got \(data.dataType.name)")
        }
      }
    }
    let positions = flags.indices.filter { flags[$0] }
    let rank = data.rank
    let result = HostTensor(zeros: .int64, shape: [rank, positions.count])
    let out = result.pointer(Int64.self)
    let dataStrides = strides(data.shape)
    for (n, flat) in positions.enumerated() {
      var rest = flat
      for axis in 0..<rank {
        out[axis * positions.count + n] = Int64(rest / dataStrides[axis])
        rest %= dataStrides[axis]
      }
    }
    return [result]
  }
}
