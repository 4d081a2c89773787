import Foundation
import XCTest

@testable import ONNXQAT

/// The committed protobuf-c bridge is exactly what protoc-c makes of libonnx-dev's onnx.proto.
final class ProtoBridgeTests: XCTestCase {
  func testCommittedCodeMatchesFreshGeneration() throws {
    let output = try TestSupport.temporaryDirectory(self)
    let result = try TestSupport.run("/bin/bash", [TestSupport.root + "/Schemas/generate-proto.sh", output])
    XCTAssertEqual(result.status, 0, "generate-proto.sh failed: \(result.stderr)")
    for file in ["onnx.pb-c.c", "include/onnx.pb-c.h"] {
      let fresh = try Data(contentsOf: URL(fileURLWithPath: output + "/" + file))
      let committed = try Data(contentsOf: URL(fileURLWithPath: TestSupport.root + "/Sources/ONNXProto/" + file))
      XCTAssertEqual(
        fresh, committed,
        "Sources/ONNXProto/\(file) differs from a fresh protoc-c run: run `make proto` and commit the result")
    }
  }

  /// Unknown fields (ONNX fields newer than the 1.12 schema) survive load and save.
  func testUnknownFieldsSurviveTheIR() throws {
    // ModelProto with ir_version 8, a graph named "g", and field 26 (a newer field) holding "x".
    var bytes: [UInt8] = [0x08, 0x08]
    bytes += [0x3a, 0x03, 0x12, 0x01, 0x67]
    bytes += [0xd2, 0x01, 0x01, 0x78]
    let model = try ModelLoader.load(bytes: Data(bytes))
    XCTAssertEqual(model.extras.unknownFields.map(\.fieldNumber), [26])
    XCTAssertEqual(try ModelSaver.serialize(model), Data(bytes))
  }

  /// Explicitly written empty strings stay explicit; absent ones stay absent.
  func testPresenceOfEmptyOptionalFieldsIsKept() throws {
    // graph { node { op_type: "Relu" domain: "" name: absent } name: "g" }
    let node: [UInt8] = [0x22, 0x04] + Array("Relu".utf8) + [0x3a, 0x00]
    let graph: [UInt8] = [0x0a, UInt8(node.count)] + node + [0x12, 0x01, 0x67]
    let bytes: [UInt8] = [0x08, 0x08, 0x3a, UInt8(graph.count)] + graph
    let model = try ModelLoader.load(bytes: Data(bytes))
    XCTAssertEqual(model.graph.nodes.first?.domain, "")
    XCTAssertEqual(try ModelSaver.serialize(model), Data(bytes))
    model.graph.nodes.first?.extras.explicitDefaults.remove(FieldNumber.nodeDomain)
    XCTAssertEqual(
      try ModelSaver.serialize(model).count, bytes.count - 2, "without the marker the empty domain is dropped")
  }
}
