import Foundation

/// Transpose, DepthToSpace and SpaceToDepth: permutations of axes, copied as strided views
/// (contiguous runs by `memcpy`), for every element type.
///
/// - Transpose (opset 1+): `output[i_perm[0], ..., i_perm[n]] = input[i_0, ..., i_n]`, i.e.
///   `output.shape[k] = input.shape[perm[k]]`; `perm` defaults to the reversed axes.
/// - DepthToSpace (opset 1+, `mode` from 11): `[N, C, H, W] -> [N, C/b², H·b, W·b]`; DCR
///   (default) views the input as `[N, b, b, C/b², H, W]` and permutes `[0, 3, 4, 1, 5, 2]`, CRD
///   views it as `[N, C/b², b, b, H, W]` and permutes `[0, 1, 4, 2, 5, 3]`.
/// - SpaceToDepth (opset 1+, `mode` in recent opsets): `[N, C, H, W] -> [N, C·b², H/b, W/b]`,
///   viewing `[N, C, H/b, b, W/b, b]` and permuting `[0, 3, 5, 1, 2, 4]` (DCR, default) or
///   `[0, 1, 3, 5, 2, 4]` (CRD).
extension DataMovement {
  static func transpose(_ context: KernelContext) throws -> [HostTensor?] {
    let data = try context.input(0)
    let perm = context.ints("perm") ?? Array((0..<data.rank).reversed())
    guard perm.count == data.rank, Set(perm) == Set(0..<data.rank) else {
      throw context.failure("perm \(perm) is not a permutation of the \(data.rank) axes of \(data.typeDescription)")
    }
    return [transposed(data, viewShape: data.shape, perm: perm)]
  }

  private static func blockOperands(_ context: KernelContext) throws -> (HostTensor, Int, Bool) {
    let data = try context.input(0)
    guard data.rank == 4 else { throw context.failure("expected a rank-4 input, got \(data.typeDescription)") }
    guard let block = context.int("blocksize"), block > 0 else {
      throw context.failure("expected a positive 'blocksize' attribute")
    }
    let mode = context.string("mode", default: "DCR")
    guard mode == "DCR" || mode == "CRD" else { throw context.failure("mode '\(mode)' is not DCR or CRD") }
    return (data, block, mode == "CRD")
  }

  static func depthToSpace(_ context: KernelContext) throws -> [HostTensor?] {
    let (data, b, crd) = try blockOperands(context)
    let (n, c, h, w) = (data.shape[0], data.shape[1], data.shape[2], data.shape[3])
    guard c % (b * b) == 0 else {
      throw context.failure("channels \(c) of \(data.typeDescription) are not a multiple of blocksize² \(b * b)")
    }
    let moved =
      crd
      ? transposed(data, viewShape: [n, c / (b * b), b, b, h, w], perm: [0, 1, 4, 2, 5, 3])
      : transposed(data, viewShape: [n, b, b, c / (b * b), h, w], perm: [0, 3, 4, 1, 5, 2])
    return [moved.reshaped([n, c / (b * b), h * b, w * b])]
  }

  static func spaceToDepth(_ context: KernelContext) throws -> [HostTensor?] {
    let (data, b, crd) = try blockOperands(context)
    let (n, c, h, w) = (data.shape[0], data.shape[1], data.shape[2], data.shape[3])
    guard h % b == 0, w % b == 0 else {
      throw context.failure("height and width of \(data.typeDescription) are not multiples of blocksize \(b)")
    }
    let view = [n, c, h / b, b, w / b, b]
    let moved = transposed(data, viewShape: view, perm: crd ? [0, 1, 3, 5, 2, 4] : [0, 3, 5, 1, 2, 4])
    return [moved.reshaped([n, c * b * b, h / b, w / b])]
  }
}
