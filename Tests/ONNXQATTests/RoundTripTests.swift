import Foundation
import XCTest

@testable import ONNXQAT

/// Loading and saving an untouched model gives back its bytes: every fixture and every model
/// in the onnx wheel (ONNX's light models, node tests, simple and pytorch-converted models).
final class RoundTripTests: XCTestCase {
  private func roundTrip(_ path: String) throws -> (Data, Data) {
    let original = try Data(contentsOf: URL(fileURLWithPath: path))
    let model = try ModelLoader.load(path: path)
    return (original, try ModelSaver.serialize(model))
  }

  func testFixturesAreByteIdenticalAfterLoadAndSave() throws {
    let fixtures = TestSupport.fixtureModels
    XCTAssertGreaterThanOrEqual(fixtures.count, 9, "Fixtures/ holds the generated models (make fixtures)")
    for path in fixtures {
      let (original, saved) = try roundTrip(path)
      XCTAssertEqual(original, saved, "\(path) changed on load+save")
    }
  }

  func testONNXWheelModelsAreByteIdenticalAfterLoadAndSave() throws {
    let models = try TestSupport.onnxWheelModels(all: true)
    XCTAssertGreaterThan(models.count, 100)
    var identical = 0
    for path in models {
      let (original, saved) = try roundTrip(path)
      if original == saved { identical += 1 } else { XCTFail("\(path) is not byte-identical after load+save") }
    }
    print("round trip: \(identical) of \(models.count) onnx wheel models byte-identical")
  }

  /// Every tensor payload read from a file shares the parsed message's buffer: no copy.
  func testLargePayloadsAreSharedNotCopied() throws {
    let model = try ModelLoader.load(path: TestSupport.fixtures + "/tiny_cnn.onnx")
    let weights = model.graph.initializers.compactMap(\.initializer).filter { ($0.rawData?.count ?? 0) > 256 }
    XCTAssertFalse(weights.isEmpty)
    for tensor in weights {
      let first = tensor.rawData?.withUnsafeBytes { $0.baseAddress }
      let copy = tensor
      XCTAssertEqual(copy.rawData?.withUnsafeBytes { $0.baseAddress }, first, "copies of a Tensor share the payload")
    }
  }

  func testSubgraphsFunctionsAndMetadataAreModelled() throws {
    let control = try ModelLoader.load(path: TestSupport.fixtures + "/control_flow.onnx")
    let ifNode = try XCTUnwrap(control.graph.nodes.first { $0.opType == "If" })
    XCTAssertEqual(ifNode.subgraphs.count, 2)
    let thenBranch = try XCTUnwrap(ifNode.subgraphs.first)
    // The branch captures `x` and `scale` from the main graph: they are the same values.
    let captured = thenBranch.nodes.flatMap(\.inputs).compactMap { $0 }
    XCTAssertTrue(captured.contains { $0 === control.graph.inputs.first { $0.name == "x" } })
    XCTAssertTrue(thenBranch.owningNode === ifNode)

    let local = try ModelLoader.load(path: TestSupport.fixtures + "/local_function.onnx")
    XCTAssertFalse(local.functions.isEmpty)
    XCTAssertTrue(
      local.graph.nodes.contains { node in
        local.functions.contains { $0.name == node.opType && $0.domain == node.domain }
      })

    let training = try ModelLoader.load(path: TestSupport.fixtures + "/training_info.onnx")
    XCTAssertFalse(training.trainingInfo.isEmpty)
    let sparse = try ModelLoader.load(path: TestSupport.fixtures + "/sparse_and_metadata.onnx")
    XCTAssertFalse(sparse.graph.sparseInitializers.isEmpty)
    XCTAssertFalse(sparse.metadataProps.isEmpty)
  }
}
