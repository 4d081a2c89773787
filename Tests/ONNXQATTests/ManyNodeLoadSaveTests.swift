import Foundation
import XCTest

@testable import ONNXQAT

/// Loading and saving graphs of many nodes: inputs are bound while the nodes are read (at once
/// when defined earlier, after the last node otherwise), an in-order graph skips the cycle
/// sort, and protobuf-c's message tree lives in a `BumpAllocator`. What must not change: every
/// input bound to the value its name denotes, nodes kept in file order, cycles refused, and an
/// untouched model saved to the same bytes.
final class ManyNodeLoadSaveTests: XCTestCase {
  // MARK: Large chains

  /// A chain of Benchmarks/scaling_graph.py (Conv, BatchNormalization, Relu, Add, Mul per block).
  private func scalingChain(nodes: Int) throws -> String {
    try TestSupport.requirePython()
    let path = try TestSupport.temporaryDirectory(self) + "/chain\(nodes).onnx"
    let result = try TestSupport.run(
      TestSupport.python, [TestSupport.root + "/Benchmarks/scaling_graph.py", String(nodes), path])
    XCTAssertEqual(result.status, 0, result.stderr)
    return path
  }

  func testAChainOfTwentyThousandNodesIsBoundInOrderAndSavesToTheSameBytes() throws {
    let path = try scalingChain(nodes: 20_000)
    let model = try ModelLoader.load(path: path)
    let graph = model.graph
    let nodes = graph.nodes
    XCTAssertEqual(nodes.count, 20_000)
    XCTAssertEqual(graph.initializers.count, 1 + 6 * 4_000)
    // Block k: Conv(x, w, b) -> BatchNormalization -> Relu -> Add(x, relu) -> Mul(add, half) = x'.
    for block in stride(from: 0, to: 4_000, by: 397) {
      let conv = nodes[5 * block]
      let mul = nodes[5 * block + 4]
      XCTAssertEqual(conv.name, "b\(block).conv")
      XCTAssertEqual(conv.inputs[1]?.initializer?.name, "b\(block).w")
      XCTAssertTrue(nodes[5 * block + 3].inputs[0] === conv.inputs[0])
      XCTAssertTrue(nodes[5 * block + 3].inputs[1]?.producer === nodes[5 * block + 2])
      XCTAssertTrue(mul.inputs[1] === graph.value(named: "half"))
      if block == 0 {
        XCTAssertTrue(conv.inputs[0] === graph.inputs[0])
      } else {
        XCTAssertTrue(conv.inputs[0]?.producer === nodes[5 * block - 1])
      }
    }
    XCTAssertEqual(graph.value(named: "half")?.uses.count, 4_000)
    XCTAssertTrue(graph.outputs[0].producer === nodes.last)

    let original = try Data(contentsOf: URL(fileURLWithPath: path))
    XCTAssertTrue(try ModelSaver.serialize(model) == original, "serialized bytes differ from the file")
    let saved = try TestSupport.temporaryDirectory(self) + "/saved.onnx"
    try ModelSaver.save(model, to: saved)
    XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: saved)) == original, "saved file differs from the input")
  }

  /// The command line skips tearing its models down at exit: the file must be complete anyway.
  func testConvertOnTheCommandLineWritesTheSameBytes() throws {
    let path = try scalingChain(nodes: 5_000)
    let output = try TestSupport.temporaryDirectory(self) + "/converted.onnx"
    let result = try TestSupport.cli("convert", path, "-o", output)
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertTrue(
      try Data(contentsOf: URL(fileURLWithPath: output)) == Data(contentsOf: URL(fileURLWithPath: path)),
      "convert changed the bytes")
  }

  // MARK: Nodes out of order

  /// X -> n0 -> n1 -> ... -> n{count-1} -> Y, with the nodes stored last first.
  private func reversedChain(count: Int) throws -> (bytes: Data, names: [String]) {
    let graph = Graph(name: "g")
    let x = Value(name: "X", type: .tensor(.float, [2]))
    graph.inputs = [x]
    var previous = x
    var chain: [Node] = []
    for index in 0..<count {
      let node = Node(opType: "Relu", name: "n\(index)", inputs: [previous], outputNames: ["v\(index)"])
      chain.append(node)
      previous = try XCTUnwrap(node.output)
    }
    for node in chain.reversed() { try graph.append(node) }
    graph.outputs = [previous]
    let model = Model(graph: graph, irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 13)])
    return (try ModelSaver.serialize(model), chain.reversed().map(\.name))
  }

  func testNodesStoredOutOfOrderAreBoundAndKeepTheirFileOrder() throws {
    let (bytes, names) = try reversedChain(count: 300)
    let model = try ModelLoader.load(bytes: bytes, name: "reversed.onnx")
    let nodes = model.graph.nodes
    XCTAssertEqual(nodes.map(\.name), names)
    for (position, node) in nodes.enumerated() {
      if position == nodes.count - 1 {
        XCTAssertTrue(node.inputs[0] === model.graph.inputs[0])
      } else {
        XCTAssertTrue(node.inputs[0]?.producer === nodes[position + 1], "\(node.name) is bound to the wrong value")
      }
    }
    var cycle: [Node] = []
    let sorted = try XCTUnwrap(GraphTopology.sortedNodes(model.graph, cycle: &cycle))
    XCTAssertEqual(sorted.map(\.name), names.reversed())
    XCTAssertEqual(try ModelSaver.serialize(model), bytes)
  }

  func testANodeConsumingItsOwnOutputIsRefusedAsACycle() throws {
    let graph = Graph(name: "g")
    let x = Value(name: "X", type: .tensor(.float, [2]))
    graph.inputs = [x]
    let loop = Node(opType: "Add", name: "loop", inputs: [x, nil], outputNames: ["Y"])
    try loop.replaceInput(at: 1, with: loop.output)
    try graph.append(loop)
    graph.outputs = [try XCTUnwrap(loop.output)]
    let model = Model(graph: graph, irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 13)])
    let bytes = try ModelSaver.serialize(model)
    XCTAssertThrowsError(try ModelLoader.load(bytes: bytes, name: "loop.onnx")) { error in
      XCTAssertEqual(
        "\(error)", "loop.onnx: invalid ONNX model: graph 'g': the graph has a cycle through nodes 'loop' (Add)")
    }
  }

  /// In a subgraph, a name defined both outside and by a later node of the subgraph denotes the
  /// subgraph's own value (the inner scope wins), even though the outer one is known first.
  func testALaterInnerDefinitionWinsOverTheOuterValueOfTheSameName() throws {
    let graph = Graph(name: "outer")
    let condition = Value(name: "cond", type: .tensor(.bool, []))
    let t = Value(name: "t", type: .tensor(.float, [2]))
    let x = Value(name: "x", type: .tensor(.float, [2]))
    graph.inputs = [condition, t, x]

    let thenBranch = Graph(name: "then")
    let innerT = Node(opType: "Abs", name: "defines_t", inputs: [x], outputNames: ["t"])
    let usesT = Node(opType: "Identity", name: "uses_t", inputs: [innerT.output], outputNames: ["o"])
    try thenBranch.append(usesT)
    try thenBranch.append(innerT)
    thenBranch.outputs = [try XCTUnwrap(usesT.output)]
    let elseBranch = Graph(name: "else")
    let passThrough = Node(opType: "Identity", name: "outer_t", inputs: [t], outputNames: ["o2"])
    try elseBranch.append(passThrough)
    elseBranch.outputs = [try XCTUnwrap(passThrough.output)]
    let branches = [
      Attribute(name: "then_branch", .graph(thenBranch)), Attribute(name: "else_branch", .graph(elseBranch)),
    ]
    let branch = Node(opType: "If", name: "if", inputs: [condition], outputNames: ["Y"], attributes: branches)
    try graph.append(branch)
    graph.outputs = [try XCTUnwrap(branch.output)]
    let model = Model(graph: graph, irVersion: 8, opsetImports: [OpsetImport(domain: "", version: 13)])
    let bytes = try ModelSaver.serialize(model)

    let loaded = try ModelLoader.load(bytes: bytes, name: "shadow.onnx")
    let subgraphs = try XCTUnwrap(loaded.graph.nodes.first).subgraphs
    XCTAssertEqual(subgraphs.map { $0.name }, ["then", "else"])
    let inner = subgraphs[0].nodes
    XCTAssertEqual(inner.map(\.name), ["uses_t", "defines_t"])
    XCTAssertTrue(inner[0].inputs[0]?.producer === inner[1], "the inner 't' must win")
    XCTAssertTrue(inner[1].inputs[0] === loaded.graph.inputs[2])
    XCTAssertTrue(subgraphs[1].nodes[0].inputs[0] === loaded.graph.inputs[1], "the else branch captures the outer 't'")
    XCTAssertEqual(try ModelSaver.serialize(loaded), bytes)
  }

  // MARK: Bump allocator

  func testBumpAllocatorBlocksAreAlignedAndNeverOverlap() {
    let memory = BumpAllocator()
    var generator = SplitMix(seed: 7)
    var blocks: [(UnsafeMutableRawPointer, Int, UInt8)] = []
    for index in 0..<20_000 {
      // Mostly small blocks, some larger than a quarter of a chunk (a chunk of their own).
      let size = index % 1_000 == 999 ? 300_000 + Int(generator.next() % 1_000) : Int(generator.next() % 600)
      let block = memory.allocate(size)
      let pattern = UInt8(truncatingIfNeeded: index)
      block.initializeMemory(as: UInt8.self, repeating: pattern, count: size)
      blocks.append((block, size, pattern))
    }
    for (block, size, pattern) in blocks {
      XCTAssertEqual(UInt(bitPattern: block) % 16, 0)
      let bytes = UnsafeRawBufferPointer(start: block, count: size)
      XCTAssertTrue(bytes.allSatisfy { $0 == pattern }, "a block of \(size) bytes was overwritten")
    }
  }

  func testFreeReleasesLargeBlocksAtOnceAndLeavesSmallOnesToTheAllocator() throws {
    let memory = BumpAllocator()
    let allocator = memory.protobufAllocator
    let alloc = try XCTUnwrap(allocator.alloc)
    let free = try XCTUnwrap(allocator.free)
    let small = try XCTUnwrap(alloc(allocator.allocator_data, 100))
    let chunksWithSmall = memory.chunkCount
    let large = try XCTUnwrap(alloc(allocator.allocator_data, 1 << 20))
    XCTAssertEqual(memory.chunkCount, chunksWithSmall + 1)
    free(allocator.allocator_data, small)
    XCTAssertEqual(memory.chunkCount, chunksWithSmall + 1)
    free(allocator.allocator_data, large)
    XCTAssertEqual(memory.chunkCount, chunksWithSmall)
    // A small block whose preceding bytes were written by the caller is still never freed alone.
    let before = try XCTUnwrap(alloc(allocator.allocator_data, 16))
    let after = try XCTUnwrap(alloc(allocator.allocator_data, 16))
    before.initializeMemory(as: UInt8.self, repeating: 0xff, count: 16)
    free(allocator.allocator_data, after)
    XCTAssertEqual(memory.chunkCount, chunksWithSmall)
    withExtendedLifetime(allocator) {}
  }
}
