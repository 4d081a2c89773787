import Foundation
import XCTest

@testable import ONNXQAT

/// External data: written with a threshold, read back by mapping, refused when a location
/// escapes the model's folder, and big enough to pass 2 GB.
final class ExternalDataTests: XCTestCase {
  /// Y = X + W, with W's payload stored at `location` (offset 0, `length` bytes).
  private func modelWithExternalWeight(location: String, length: Int = 16, elements: Int64 = 4) throws -> Model {
    let graph = Graph(name: "g")
    let x = Value(name: "X", type: .tensor(.float, [Dimension(.known(elements))]))
    graph.inputs = [x]
    var weight = Tensor(name: "W", dataType: .float, dims: [elements])
    weight.dataLocation = .external
    weight.externalData = [
      StringPair(key: "location", value: location), StringPair(key: "offset", value: "0"),
      StringPair(key: "length", value: String(length)),
    ]
    let w = try graph.addInitializer(named: "W", weight)
    let add = Node(opType: "Add", inputs: [x, w], outputNames: ["Y"])
    try graph.append(add)
    let y = try XCTUnwrap(add.output)
    y.type = .tensor(.float, [Dimension(.known(elements))])
    graph.outputs = [y]
    return Model(graph: graph, irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 13)])
  }

  private func write(_ model: Model, to path: String) throws {
    try ModelSaver.serialize(model).write(to: URL(fileURLWithPath: path))
  }

  private func floats(_ values: [Float]) -> Data { values.withUnsafeBytes { Data($0) } }

  func testExternalizeThenInlineRestoresTheOriginalBytes() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let source = TestSupport.fixtures + "/tiny_cnn.onnx"
    let external = folder + "/external.onnx"
    let written = try ModelSaver.save(
      try ModelLoader.load(path: source), to: external, externalData: .externalize(threshold: 64))
    XCTAssertEqual(written, [external, external + ".data"])
    let reloaded = try ModelLoader.load(path: external)
    let tensors = reloaded.graph.initializers.compactMap(\.initializer)
    XCTAssertTrue(tensors.contains { $0.isExternal })
    XCTAssertTrue(tensors.filter { $0.storedByteCount < 64 }.allSatisfy { !$0.isExternal }, "small tensors stay inline")
    for tensor in tensors where tensor.isExternal {
      let offset = Int(tensor.externalValue("offset") ?? "") ?? -1
      XCTAssertEqual(offset % (tensor.storedByteCount >= 4096 ? 4096 : 64), 0, "offsets are aligned for mmap")
    }
    let inlined = folder + "/inlined.onnx"
    try ModelSaver.save(reloaded, to: inlined, externalData: .inline)
    XCTAssertEqual(
      try Data(contentsOf: URL(fileURLWithPath: inlined)), try Data(contentsOf: URL(fileURLWithPath: source)))
    XCTAssertFalse(FileManager.default.fileExists(atPath: inlined + ".data"))
  }

  func testMappedBytesAreReadAtTheirOffset() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let payload = floats([1, 2, 3, 4])
    try (Data(count: 100) + payload).write(to: URL(fileURLWithPath: folder + "/weights.bin"))
    let model = try modelWithExternalWeight(location: "weights.bin")
    let weight = try XCTUnwrap(model.graph.initializers.first?.initializer)
    var moved = weight
    moved.externalData[1].value = "100"
    try model.graph.setInitializer(model.graph.initializers[0], moved)
    try write(model, to: folder + "/m.onnx")
    let loaded = try ModelLoader.load(path: folder + "/m.onnx")
    XCTAssertEqual(loaded.graph.initializers.first?.initializer?.externalBytes, payload)
  }

  private func expectRefusal(_ location: String, in folder: String, containing expected: String) throws {
    let modelPath = folder + "/model.onnx"
    try write(try modelWithExternalWeight(location: location), to: modelPath)
    XCTAssertThrowsError(try ModelLoader.load(path: modelPath)) { error in
      XCTAssertTrue("\(error)".contains(expected), "\(location): \(error)")
      XCTAssertTrue("\(error)".contains("tensor 'W'"), "the error names the tensor: \(error)")
    }
    let output = folder + "/out.onnx"
    let result = try TestSupport.cli("convert", modelPath, "-o", output)
    XCTAssertEqual(result.status, 2, result.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: output), "no output is written")
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".tmp-") }
    XCTAssertEqual(leftovers, [], "no temporary files are left behind")
  }

  func testLocationsEscapingTheModelFolderAreRefused() throws {
    let root = try TestSupport.temporaryDirectory(self)
    let folder = root + "/model"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try floats([1, 2, 3, 4]).write(to: URL(fileURLWithPath: root + "/outside.bin"))
    try expectRefusal("/etc/passwd", in: folder, containing: "is an absolute path")
    try expectRefusal("../outside.bin", in: folder, containing: "contains '..'")
    try expectRefusal("sub/../../outside.bin", in: folder, containing: "contains '..'")
    try FileManager.default.createSymbolicLink(atPath: folder + "/link.bin", withDestinationPath: root + "/outside.bin")
    try expectRefusal("link.bin", in: folder, containing: "outside the model's folder")
    try FileManager.default.createSymbolicLink(atPath: folder + "/dir", withDestinationPath: root)
    try expectRefusal("dir/outside.bin", in: folder, containing: "outside the model's folder")
    try expectRefusal("missing.bin", in: folder, containing: "does not exist")
  }

  func testSymbolicLinksInsideTheFolderAreFine() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    try floats([1, 2, 3, 4]).write(to: URL(fileURLWithPath: folder + "/real.bin"))
    try FileManager.default.createSymbolicLink(atPath: folder + "/alias.bin", withDestinationPath: folder + "/real.bin")
    try write(try modelWithExternalWeight(location: "alias.bin"), to: folder + "/m.onnx")
    XCTAssertEqual(
      try ModelLoader.load(path: folder + "/m.onnx").graph.initializers.first?.initializer?.externalBytes,
      floats([1, 2, 3, 4]))
  }

  func testRangesPastTheEndAndWrongLengthsAreRefused() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    try floats([1, 2]).write(to: URL(fileURLWithPath: folder + "/short.bin"))
    try write(try modelWithExternalWeight(location: "short.bin"), to: folder + "/m.onnx")
    XCTAssertThrowsError(try ModelLoader.load(path: folder + "/m.onnx")) { error in
      XCTAssertTrue("\(error)".contains("runs past the end of 'short.bin' (8 bytes)"), "\(error)")
    }
    try floats([1, 2, 3, 4, 5]).write(to: URL(fileURLWithPath: folder + "/long.bin"))
    try write(try modelWithExternalWeight(location: "long.bin", length: 20), to: folder + "/m2.onnx")
    XCTAssertThrowsError(try ModelLoader.load(path: folder + "/m2.onnx")) { error in
      XCTAssertTrue("\(error)".contains("holds 20 bytes for this tensor, but float[4] needs 16"), "\(error)")
    }
  }

  func testTheInputIsNeverOverwritten() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let source = TestSupport.fixtures + "/external/model_external.onnx"
    try FileManager.default.copyItem(atPath: TestSupport.fixtures + "/external", toPath: folder + "/external")
    let copy = folder + "/external/model_external.onnx"
    let before = try Data(contentsOf: URL(fileURLWithPath: copy))
    let sameFile = try TestSupport.cli("convert", copy, "-o", copy)
    XCTAssertEqual(sameFile.status, 2)
    XCTAssertTrue(sameFile.stderr.contains("is the input model"), sameFile.stderr)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: copy)), before)
    XCTAssertEqual(
      try Data(contentsOf: URL(fileURLWithPath: folder + "/external/model_external.onnx.data")),
      try Data(contentsOf: URL(fileURLWithPath: source + ".data")))

    // An output whose data file would replace the data file the input reads from.
    try floats([1, 2, 3, 4]).write(to: URL(fileURLWithPath: folder + "/out.onnx.data"))
    try write(try modelWithExternalWeight(location: "out.onnx.data"), to: folder + "/m.onnx")
    let clash = try TestSupport.cli("convert", folder + "/m.onnx", "-o", folder + "/out.onnx")
    XCTAssertEqual(clash.status, 2, clash.stderr)
    XCTAssertTrue(clash.stderr.contains("the input model reads its external data from this file"), clash.stderr)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/out.onnx.data")), floats([1, 2, 3, 4]))
    XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out.onnx"))
  }

  func testModelsOverTwoGigabytesWorkThroughExternalData() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let elements: Int64 = 600_000_000  // 2.4 GB of float32, as a sparse file (no disk used)
    let bytes = Int(elements) * 4
    let dataPath = folder + "/big.bin"
    XCTAssertTrue(FileManager.default.createFile(atPath: dataPath, contents: nil))
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataPath))
    try handle.truncate(atOffset: UInt64(bytes))
    try handle.close()
    try write(
      try modelWithExternalWeight(location: "big.bin", length: bytes, elements: elements), to: folder + "/big.onnx")

    let model = try ModelLoader.load(path: folder + "/big.onnx")
    let summary = ModelSummary(model)
    XCTAssertEqual(summary.parameterCount, Int(elements))
    XCTAssertEqual(summary.externalData.first?.bytes, bytes)

    // Inline, the model would pass the protobuf limit: refused before anything is written.
    XCTAssertThrowsError(try ModelSaver.save(model, to: folder + "/inline.onnx", externalData: .inline)) { error in
      XCTAssertTrue("\(error)".contains("2 GiB"), "\(error)")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/inline.onnx"))

    // Kept external, it saves: a fresh data file beside the output, checked by onnx's checker.
    let output = folder + "/copy.onnx"
    try ModelSaver.save(model, to: output)
    let attributes = try FileManager.default.attributesOfItem(atPath: output + ".data")
    XCTAssertEqual((attributes[.size] as? NSNumber)?.intValue, bytes)
    try TestSupport.requirePython()
    let check = try TestSupport.run(TestSupport.python, [TestSupport.root + "/Tests/interop/check_models.py", output])
    XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
  }
}
