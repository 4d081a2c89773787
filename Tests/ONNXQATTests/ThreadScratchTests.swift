import CIntegerKernels
import Foundation
import XCTest

@testable import ONNXQAT

/// The per-thread scratch of the float kernels (`qat_thread_scratch_f32`, `ThreadScratch`): a
/// slot gives the same buffer again while no more floats are asked of it (no allocation per
/// run), grows when asked for more, keeps slots apart, belongs to one thread (another thread
/// gets a buffer of its own), and refuses slots out of range.
final class ThreadScratchTests: XCTestCase {
  func testSlotsAreReusedGrownKeptApartAndPerThread() {
    let first = qat_thread_scratch_f32(ThreadScratch.packedB, 1000)
    XCTAssertNotNil(first)
    XCTAssertEqual(qat_thread_scratch_f32(ThreadScratch.packedB, 10), first, "a smaller request reuses the buffer")
    XCTAssertEqual(qat_thread_scratch_f32(ThreadScratch.packedB, 1000), first)
    let other = qat_thread_scratch_f32(ThreadScratch.packedA, 1000)
    XCTAssertNotNil(other)
    XCTAssertNotEqual(other, first, "two slots are two buffers")
    // A larger request gives a buffer that holds all of it (writable to the end).
    if let grown = qat_thread_scratch_f32(ThreadScratch.packedB, 1 << 20) {
      grown[(1 << 20) - 1] = 1
      XCTAssertEqual(Int(bitPattern: grown) % 64, 0, "64-byte aligned")
      XCTAssertEqual(qat_thread_scratch_f32(ThreadScratch.packedB, 1 << 20), grown)
    } else {
      XCTFail("no scratch for 2^20 floats")
    }
    XCTAssertNil(qat_thread_scratch_f32(-1, 10))
    XCTAssertNil(qat_thread_scratch_f32(QAT_SCRATCH_SLOTS, 10))
    // Another thread's slot is another buffer.
    let mine = qat_thread_scratch_f32(ThreadScratch.convColumns, 64)
    let theirs = AddressBox()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      theirs.address = Int(bitPattern: qat_thread_scratch_f32(ThreadScratch.convColumns, 64))
      done.signal()
    }
    thread.start()
    done.wait()
    XCTAssertNotEqual(theirs.address, 0)
    XCTAssertNotEqual(theirs.address, Int(bitPattern: mine))
    let lease = ThreadScratch.lease(ThreadScratch.im2colRow, count: 16)
    XCTAssertFalse(lease.owned)
    lease.release()
  }
}

/// An address written by another thread before it signals a semaphore the test waits on.
private final class AddressBox: @unchecked Sendable {
  var address = 0
}
