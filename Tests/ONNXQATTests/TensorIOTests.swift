import Foundation
import XCTest

@testable import ONNXQAT

/// Inputs from NumPy: `.npy` (formats 1 and 2), `.npz` stored and deflated, compared with the
/// same arrays written by onnx's numpy_helper as TensorProto; bad files name what is wrong.
final class TensorIOTests: XCTestCase {
  private func makeFiles() throws -> String {
    try TestSupport.requirePython()
    let folder = try TestSupport.temporaryDirectory(self)
    let result = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Tests/interop/make_numpy_files.py", folder])
    XCTAssertEqual(result.status, 0, result.stderr)
    return folder
  }

  private func assertSame(_ a: HostTensor, _ b: HostTensor, _ label: String) {
    XCTAssertEqual(a.dataType, b.dataType, label)
    XCTAssertEqual(a.shape, b.shape, label)
    XCTAssertEqual(
      Data(bytes: a.buffer.raw, count: a.count * a.dataType.storageStride),
      Data(bytes: b.buffer.raw, count: b.count * b.dataType.storageStride), "\(label): bytes differ")
  }

  func testNpyFilesMatchNumpy() throws {
    let folder = try makeFiles()
    for name in ["f32", "f64", "f16", "i8", "u8", "i64", "bool", "scalar", "v2"] {
      let fromNumpy = try XCTUnwrap(try TensorInputs.load(path: "\(folder)/\(name).npy")[name])
      let fromProto = try HostTensor(try TensorFile.load(path: "\(folder)/\(name).pb"))
      assertSame(fromNumpy, fromProto, name)
    }
  }

  func testNpzArchivesStoredAndDeflated() throws {
    let folder = try makeFiles()
    for archive in ["stored", "deflated"] {
      let members = try TensorInputs.load(path: "\(folder)/\(archive).npz")
      XCTAssertEqual(Set(members.keys), archive == "stored" ? ["x", "y"] : ["x", "y", "z"])
      for (key, tensor) in members {
        assertSame(
          tensor, try HostTensor(try TensorFile.load(path: "\(folder)/\(archive).\(key).pb")), "\(archive).\(key)")
      }
    }
  }

  func testNpyWriteReadsBackInNumpy() throws {
    let folder = try makeFiles()
    let tensor = try XCTUnwrap(try TensorInputs.load(path: "\(folder)/f32.npy")["f32"])
    let written = folder + "/written.npy"
    try AtomicFile.write(try NumpyFile.write(tensor, name: "f32"), to: written)
    let check = try TestSupport.run(
      TestSupport.python,
      [
        "-c",
        "import numpy as np, sys; a = np.load(sys.argv[1]); b = np.load(sys.argv[2]); assert a.dtype == b.dtype and (a == b).all(), (a, b); print('same')",
        written, folder + "/f32.npy",
      ])
    XCTAssertEqual(check.stdout, "same\n", check.stderr)
  }

  func testBadFilesNameTheProblem() throws {
    let folder = try makeFiles()
    let expectations = [
      "fortran.npy": "Fortran order", "bigendian.npy": "dtype '>f4' is not supported",
      "object.npy": "dtype '|O' is not supported", "truncated.npy": "data bytes",
      "corrupt.npz": "member", "notzip.npz": "not a ZIP archive",
    ]
    for (file, expected) in expectations {
      XCTAssertThrowsError(try TensorInputs.load(path: "\(folder)/\(file)"), file) { error in
        XCTAssertTrue("\(error)".contains(expected), "\(file): \(error)")
        XCTAssertTrue("\(error)".contains(file), "the message names the file: \(error)")
      }
    }
  }
}
