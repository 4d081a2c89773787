import Foundation

/// The sliding-window geometry shared by Conv and the pooling ops: kernel, strides, dilations,
/// begin/end pads and output size per spatial axis, from the `kernel_shape`, `strides`,
/// `dilations`, `pads`, `auto_pad` and `ceil_mode` attributes.
///
/// Output size per axis, with the effective kernel `e = (k - 1) * d + 1`:
/// - NOTSET: `floor((in + begin + end - e) / s) + 1` (`ceil` with ceil_mode, minus one when
///   the last window would start in the end padding);
/// - VALID: pads 0, `floor((in - e) / s) + 1`;
/// - SAME_UPPER / SAME_LOWER: `ceil(in / s)`, total pad `max(0, (out - 1) * s + e - in)`,
///   the odd pixel at the end (UPPER) or the beginning (LOWER).
struct WindowGeometry {
  var input: [Int]
  var kernel: [Int]
  var strides: [Int]
  var dilations: [Int]
  var padsBegin: [Int]
  var padsEnd: [Int]
  var output: [Int]

  var rank: Int { input.count }

  /// Geometry with every size given (the integer convolutions, whose attributes are read
  /// elsewhere); the end pads are what the last window reaches past the input, at least 0.
  init(input: [Int], kernel: [Int], strides: [Int], dilations: [Int], padsBegin: [Int], output: [Int]) {
    self.input = input
    self.kernel = kernel
    self.strides = strides
    self.dilations = dilations
    self.padsBegin = padsBegin
    self.output = output
    padsEnd = (0..<input.count).map { axis in
      let reach = (output[axis] - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1
      return max(0, reach - input[axis] - padsBegin[axis])
    }
  }

  /// Geometry for a forward window over `input` (spatial sizes) with `kernel` sizes.
  init(_ context: KernelContext, input: [Int], kernel: [Int], ceilMode: Bool = false) throws {
    let rank = input.count
    self.input = input
    self.kernel = kernel
    strides = context.ints("strides") ?? Array(repeating: 1, count: rank)
    dilations = context.ints("dilations") ?? Array(repeating: 1, count: rank)
    if dilations.isEmpty { dilations = Array(repeating: 1, count: rank) }
    if strides.isEmpty { strides = Array(repeating: 1, count: rank) }
    guard kernel.count == rank, strides.count == rank, dilations.count == rank else {
      throw context.failure(
        "kernel_shape \(kernel), strides \(strides) and dilations \(dilations); expected \(rank) values each "
          + "for input spatial shape \(input)")
    }
    guard strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }), kernel.allSatisfy({ $0 > 0 }) else {
      throw context.failure(
        "kernel_shape \(kernel), strides \(strides), dilations \(dilations); expected positive values")
    }
    padsBegin = Array(repeating: 0, count: rank)
    padsEnd = Array(repeating: 0, count: rank)
    output = Array(repeating: 0, count: rank)
    let autoPad = context.string("auto_pad", default: "NOTSET")
    for axis in 0..<rank {
      let effective = (kernel[axis] - 1) * dilations[axis] + 1
      let stride = strides[axis]
      switch autoPad {
      case "SAME_UPPER", "SAME_LOWER":
        output[axis] = (input[axis] + stride - 1) / stride
        let total = max(0, (output[axis] - 1) * stride + effective - input[axis])
        padsBegin[axis] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
        padsEnd[axis] = total - padsBegin[axis]
      case "VALID":
        output[axis] = input[axis] >= effective ? (input[axis] - effective) / stride + 1 : 0
      case "NOTSET", "":
        if let pads = context.ints("pads"), !pads.isEmpty {
          guard pads.count == 2 * rank, pads.allSatisfy({ $0 >= 0 }) else {
            throw context.failure("pads \(pads); expected \(2 * rank) non-negative values")
          }
          padsBegin[axis] = pads[axis]
          padsEnd[axis] = pads[axis + rank]
        }
        let span = input[axis] + padsBegin[axis] + padsEnd[axis] - effective
        guard span >= 0 else {
          throw context.failure(
            "the window (kernel \(kernel), dilations \(dilations)) is larger than the padded input \(input)")
        }
        if ceilMode {
          var size = (span + stride - 1) / stride + 1
          if (size - 1) * stride >= input[axis] + padsBegin[axis] { size -= 1 }
          output[axis] = size
        } else {
          output[axis] = span / stride + 1
        }
      default:
        throw context.failure("auto_pad '\(autoPad)'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID")
      }
    }
  }

  /// The same geometry with leading unit axes so that it has three spatial axes (for loops
  /// written for 3-D).
  var asThreeDimensional: WindowGeometry {
    var result = self
    while result.rank < 3 {
      result.input.insert(1, at: 0)
      result.kernel.insert(1, at: 0)
      result.strides.insert(1, at: 0)
      result.dilations.insert(1, at: 0)
      result.padsBegin.insert(0, at: 0)
      result.padsEnd.insert(0, at: 0)
      result.output.insert(1, at: 0)
    }
    return result
  }

  /// Output positions `o` (a half-open range) for which `o * stride - padBegin + offset` is a
  /// valid input index on `axis`.
  func validOutputs(axis: Int, offset: Int) -> Range<Int> {
    let stride = strides[axis]
    let shift = padsBegin[axis] - offset  // input index = o * stride - shift
    // o * stride >= shift  ->  o >= ceil(shift / stride)
    var low = shift <= 0 ? 0 : (shift + stride - 1) / stride
    // o * stride - shift <= input - 1  ->  o <= floor((input - 1 + shift) / stride)
    let top = input[axis] - 1 + shift
    var high = top < 0 ? 0 : top / stride + 1
    low = min(low, output[axis])
    high = min(max(high, low), output[axis])
    return low..<high
  }
}
