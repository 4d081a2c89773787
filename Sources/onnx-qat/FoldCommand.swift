import Foundation
import ONNXQAT

/// `onnx-qat fold MODEL -o OUT`: fold constants, drop dead nodes, merge equal initializers.
enum FoldCommand: Command {
  static let name = "fold"
  static let summary =
    "Fold constant subgraphs into initializers, remove dead nodes and merge duplicate initializers."
  static let usage = "MODEL -o OUT [--report FILE.json] [--json] [--explain]"
  static let options = [
    OptionSpec(names: ["-o", "--output"], kind: .value, help: "output model path (required)"),
    OptionSpec(
      names: ["--report"], kind: .value, help: "also write the report as JSON (Schemas/fold-report.schema.json)"),
    OptionSpec(names: ["--json"], kind: .flag, help: "print the report as JSON instead of the summary"),
    OptionSpec(names: ["--explain"], kind: .flag, help: "list every node a pass declined, with the reason"),
  ]
  static let positionalCount = 1...1

  static func run(_ arguments: ParsedArguments) throws -> Int32 {
    guard let output = arguments.value("--output") else { throw UsageError("missing -o OUT") }
    let input = arguments.positionals[0]
    if sameFile(input, output) { throw UsageError("OUT is the input model; onnx-qat never overwrites its input") }
    if let report = arguments.value("--report"), sameFile(report, input) || sameFile(report, output) {
      throw UsageError("--report '\(report)' names a model file")
    }
    let model = try loadInput(input)
    let externalData = outputExternalData(like: model)
    let log = RewriteLog()
    let start = DispatchTime.now()
    var report = try Folding.fold(model, log: log)
    let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
    report.model = input
    report.output = output
    let (written, json) = try saveModel(
      model, to: output, externalData: externalData, reportPath: arguments.value("--report")
    ) { try requestedJSON(report, arguments) }
    keepUntilExit(model)
    if arguments.has("--json") {
      print(json)
      return 0
    }
    print("folded \(input) in \(String(format: "%.1f", milliseconds)) ms; wrote \(written.joined(separator: ", "))")
    print("  nodes: \(report.before.nodes) -> \(report.after.nodes)")
    print(
      "  initializers: \(report.before.initializers) -> \(report.after.initializers) "
        + "(\(report.before.initializerBytes) -> \(report.after.initializerBytes) bytes)")
    for pass in report.passes {
      print("  \(pass.name): \(pass.modified ? "changed the model" : "no change") (\(pass.runs) runs)")
    }
    let summary = log.summary(explain: arguments.has("--explain"))
    if !summary.isEmpty { print(summary) }
    if !arguments.has("--explain") && !report.refusals.isEmpty {
      print("  \(report.refusals.count) node(s) not folded; --explain lists them with the reasons")
    }
    return 0
  }

  /// True when both paths name the same existing file (or are equal as written).
  private static func sameFile(_ first: String, _ second: String) -> Bool {
    let a = URL(fileURLWithPath: first).standardizedFileURL.resolvingSymlinksInPath().path
    let b = URL(fileURLWithPath: second).standardizedFileURL.resolvingSymlinksInPath().path
    return a == b
  }
}
