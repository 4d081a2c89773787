import Foundation
import XCTest

@testable import ONNXQAT

/// Bad input gets a specific error, never a crash or a hang; the CLI exits with code 2.
final class BadInputTests: XCTestCase {
  private func loadError(_ bytes: [UInt8]) -> String {
    do {
      _ = try ModelLoader.load(bytes: Data(bytes), name: "bad.onnx")
      return "loaded"
    } catch {
      return "\(error)"
    }
  }

  private func model(graph: [UInt8]) -> [UInt8] {
    [0x08, 0x08, 0x3a] + varint(graph.count) + graph + [0x42, 0x02, 0x10, 0x0d]  // opset_import { version: 13 }
  }

  private func varint(_ value: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    var rest = value
    repeat {
      bytes.append(UInt8(rest & 0x7f) | (rest > 0x7f ? 0x80 : 0))
      rest >>= 7
    } while rest > 0
    return bytes
  }

  private func string(_ field: UInt8, _ text: String) -> [UInt8] {
    [field << 3 | 2] + varint(text.utf8.count) + Array(text.utf8)
  }

  private func node(_ op: String, inputs: [String], outputs: [String], name: String = "") -> [UInt8] {
    var body: [UInt8] = []
    for input in inputs { body += string(1, input) }
    for output in outputs { body += string(2, output) }
    if !name.isEmpty { body += string(3, name) }
    body += string(4, op)
    return [0x0a] + varint(body.count) + body
  }

  private func valueInfo(_ field: UInt8, _ name: String) -> [UInt8] {
    let body = string(1, name)
    return [field << 3 | 2] + varint(body.count) + body
  }

  func testEmptyInput() {
    XCTAssertEqual(loadError([]), "bad.onnx: not a valid ONNX model: the buffer is empty (0 bytes)")
  }

  func testRandomBytesAreRejectedWithAReason() {
    var generator = SplitMix(seed: 42)
    for _ in 0..<200 {
      let bytes = (0..<Int(generator.next() % 512 + 1)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
      let message = loadError(bytes)
      XCTAssertTrue(message.hasPrefix("bad.onnx: "), message)
      XCTAssertNotEqual(message, "loaded")
    }
  }

  func testANonONNXProtobufIsNamed() {
    // A TensorProto: dims 2, data_type 1 (float), float_data packed.
    let tensor: [UInt8] = [0x08, 0x02, 0x10, 0x01, 0x22, 0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]
    let message = loadError(tensor)
    XCTAssertTrue(message.contains("not a valid ONNX model"), message)
  }

  func testUndefinedValue() {
    let graph = node("Relu", inputs: ["nowhere"], outputs: ["Y"], name: "relu1") + string(2, "g") + valueInfo(12, "Y")
    XCTAssertEqual(
      loadError(model(graph: graph)),
      "bad.onnx: invalid ONNX model: graph 'g': node 'relu1' (Relu) input 0 'nowhere' is not defined by any graph input, initializer or node output"
    )
  }

  func testUndefinedGraphOutput() {
    let graph = valueInfo(11, "X") + string(2, "g") + valueInfo(12, "missing")
    XCTAssertEqual(
      loadError(model(graph: graph)),
      "bad.onnx: invalid ONNX model: graph 'g': output 'missing' is not produced by any node, input or initializer")
  }

  func testDuplicateOutputName() {
    let graph =
      valueInfo(11, "X") + node("Relu", inputs: ["X"], outputs: ["Y"]) + node("Abs", inputs: ["X"], outputs: ["Y"])
      + string(2, "g") + valueInfo(12, "Y")
    XCTAssertEqual(
      loadError(model(graph: graph)),
      "bad.onnx: invalid ONNX model: graph 'g': node #1 (Abs) output 'Y' is already defined (duplicate output name)")
  }

  func testCycle() {
    let graph =
      valueInfo(11, "X") + node("Add", inputs: ["X", "b"], outputs: ["a"], name: "first")
      + node("Relu", inputs: ["a"], outputs: ["b"], name: "second") + string(2, "g") + valueInfo(12, "b")
    XCTAssertEqual(
      loadError(model(graph: graph)),
      "bad.onnx: invalid ONNX model: graph 'g': the graph has a cycle through nodes 'first' (Add), 'second' (Relu)")
  }

  /// Found by the loader fuzzer: declared dims that overflow or are negative used to trap in
  /// `print` and `inspect`. The loader refuses them, and wrong raw_data sizes, by name.
  func testHostileTensorDimsAreRefused() throws {
    let cases: [([Int64], Data?, String)] = [
      ([-5, 3], nil, "tensor 'w': dimension -5 in [-5, 3] is negative"),
      (
        [1 << 32, 1 << 32], nil, "tensor 'w': dims [4294967296, 4294967296] describe more elements than memory can hold"
      ),
      ([1 << 62], nil, "describe more elements than memory can hold"),
      ([2, 3], Data(count: 20), "tensor 'w': raw_data holds 20 bytes, but float[2, 3] needs 24"),
    ]
    for (dims, raw, expected) in cases {
      let graph = Graph(name: "g")
      let w = try graph.addInitializer(named: "w", Tensor(name: "w", dataType: .float, dims: dims, rawData: raw))
      graph.outputs = [w]
      let model = Model(graph: graph, irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 13)])
      let message = loadError([UInt8](try ModelSaver.serialize(model)))
      XCTAssertTrue(message.contains(expected), message)
      XCTAssertTrue(message.hasPrefix("bad.onnx: invalid ONNX model: "), message)
    }
  }

  func testMissingGraph() {
    XCTAssertTrue(loadError([0x08, 0x08]).contains("field 'graph' is missing"))
  }

  func testDeepNestingIsRefusedBeforeParsing() {
    // TypeProto sequences nested 10,000 deep inside a graph input's value info.
    var type: [UInt8] = []
    for _ in 0..<10_000 {
      let sequence = [0x0a] + varint(type.count) + type  // Sequence.elem_type = type
      type = [0x22] + varint(sequence.count) + sequence  // TypeProto.sequence_type
    }
    let info = string(1, "X") + [0x12] + varint(type.count) + type
    let graph = [0x5a] + varint(info.count) + info
    XCTAssertTrue(loadError(model(graph: graph)).contains("nested more than"), "deep nesting must not reach protobuf-c")
  }

  func testTruncatedRealModelsNeverLoadOrCrash() throws {
    let path = TestSupport.fixtures + "/tiny_cnn.onnx"
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    var failures = 0
    var truncatedReported = 0
    let step = max(1, bytes.count / 400)
    for cut in stride(from: 0, to: bytes.count - 1, by: step) {
      let message = loadError(Array(bytes[0..<cut]))
      XCTAssertTrue(message.hasPrefix("bad.onnx: "), "cut at \(cut): \(message)")
      if message == "loaded" { failures += 1 }
      if message.contains("truncated") { truncatedReported += 1 }
    }
    XCTAssertEqual(failures, 0)
    XCTAssertGreaterThan(truncatedReported, 0, "cuts through the graph field are reported as truncation")
  }

  func testCommandLineExitCodes() throws {
    let folder = try TestSupport.temporaryDirectory(self)
    let cases: [(String, [UInt8])] = [
      ("empty.onnx", []), ("random.onnx", [0xff, 0x13, 0x99, 0x00, 0x42]),
      ("undefined.onnx", model(graph: node("Relu", inputs: ["nowhere"], outputs: ["Y"]) + valueInfo(12, "Y"))),
    ]
    for (name, bytes) in cases {
      let path = folder + "/" + name
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      for verb in [["inspect"], ["print"], ["convert", "-o", folder + "/out.onnx"]] {
        let result = try TestSupport.run(TestSupport.binary, verb + [path])
        XCTAssertEqual(result.status, 2, "\(verb) \(name): \(result.stderr)")
        XCTAssertTrue(result.stderr.contains(path), "the error names the file: \(result.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out.onnx"), "no output on failure")
      }
    }
    let missing = try TestSupport.cli("inspect", folder + "/does-not-exist.onnx")
    XCTAssertEqual(missing.status, 2)
    XCTAssertTrue(missing.stderr.contains("No such file"), missing.stderr)
    let usage = try TestSupport.cli("convert", folder + "/x.onnx")
    XCTAssertEqual(usage.status, 2)
    XCTAssertTrue(usage.stderr.contains("missing -o OUT"), usage.stderr)
    let unknown = try TestSupport.cli("print", "--bogus", "x")
    XCTAssertEqual(unknown.status, 2)
    XCTAssertTrue(unknown.stderr.contains("unknown option '--bogus'"), unknown.stderr)
    XCTAssertEqual(try TestSupport.cli("frobnicate").status, 2)
  }
}
