import Foundation

/// An ONNX model (`ModelProto`): metadata, opset imports, the main graph and local functions.
public final class Model {
  public var irVersion: Int64?
  public var opsetImports: [OpsetImport]
  public var producerName: String?
  public var producerVersion: String?
  public var domain: String?
  public var modelVersion: Int64?
  public var docString: String?
  public var graph: Graph
  public var metadataProps: [StringPair] = []
  /// `training_info` entries, kept as their packed bytes: onnx-qat never edits them.
  public var trainingInfo: [Data] = []
  public var functions: [Function] = []
  public var extras = WireExtras()
  /// The file this model was loaded from; external data locations are relative to its folder.
  public internal(set) var sourcePath: String?

  public init(graph: Graph, irVersion: Int64 = 10, opsetImports: [OpsetImport]) {
    self.graph = graph
    self.irVersion = irVersion
    self.opsetImports = opsetImports
  }

  /// The version imported for `domain` ("" or "ai.onnx" for the default domain).
  public func opsetVersion(_ domain: String) -> Int64? {
    let wanted = domain == "ai.onnx" ? "" : domain
    return opsetImports.first { $0.normalizedDomain == wanted }?.version
  }

  /// The main graph and every subgraph and function body, each once.
  public var allGraphs: [Graph] {
    [graph] + graph.allSubgraphs + functions.flatMap { [$0.body] + $0.body.allSubgraphs }
  }
}
