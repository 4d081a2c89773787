import CIntegerKernels
import Foundation

/// Scratch floats the float kernels reuse from run to run on each thread (`qat_thread_scratch_f32`)
/// instead of allocating and freeing them on every call: a block of 128 KiB or more is mapped
/// and unmapped by glibc each time, and its pages fault in again on every run. Each use has its
/// own slot, so that nested uses on one thread (a Conv band's columns, then the GEMM's packed B
/// inside it) never share a buffer.
enum ThreadScratch {
  /// The GEMM's packed B block (`NeuralNetworkGEMM.multiply`, one per worker by columns).
  static let packedB: Int32 = 0
  /// The GEMM's packed A block (`NeuralNetworkGEMM.multiply` without a packing).
  static let packedA: Int32 = 1
  /// A Conv band's im2col columns (`ConvKernel`).
  static let convColumns: Int32 = 2
  /// im2col's row of one kernel tap (`Im2col.expandPacked`).
  static let im2colRow: Int32 = 3
  /// A depthwise plane's zero-padded input (`DepthwiseConv`).
  static let depthwisePlane: Int32 = 4
  /// A block of QLinearConv's byte im2col columns (`IntegerConvolution.requantized8Bit`).
  static let byteColumns: Int32 = 5

  /// At least `count` floats (contents undefined) of this thread's slot `slot`: `release()` the
  /// lease when done, on the same thread, and use the floats no longer. Falls back to an
  /// allocation of its own (freed by `release()`) when the slot cannot be had.
  static func lease(_ slot: Int32, count: Int) -> Lease {
    if let scratch = qat_thread_scratch_f32(slot, max(1, count)) {
      return Lease(pointer: scratch, owned: false)
    }
    return Lease(pointer: UnsafeMutablePointer<Float>.allocate(capacity: max(1, count)), owned: true)
  }

  /// Scratch floats lent by `lease`.
  struct Lease {
    /// The floats.
    let pointer: UnsafeMutablePointer<Float>
    /// Whether the floats were allocated for this lease (no slot to be had).
    let owned: Bool

    /// Ends the lease (frees an allocation of its own).
    func release() {
      if owned { pointer.deallocate() }
    }
  }
}
