import Foundation
import ONNXQAT

/// `onnx-qat lower MODEL -o OUT`: fake-quant graph to integer graph.
enum LowerCommand: Command {
  static let name = "lower"
  static let summary =
    "Turn a fake-quant (Q/DQ) graph into an integer graph: QLinearConv, QLinearMatMul, lookup tables."
  static let usage = """
    MODEL -o OUT [--target ort|onnx] [--requant float|fixed-point] [--strict] [--int-io] [--report FILE.json] [--json] [--explain]
    """
  static let options = [
    OptionSpec(names: ["-o", "--output"], kind: .value, help: "output model path (required)"),
    OptionSpec(
      names: ["--target"], kind: .value, help: "ort (default: QLinear ops and com.microsoft ops) or onnx (ai.onnx only)"
    ),
    OptionSpec(
      names: ["--requant"], kind: .value,
      help: "float (default: QLinear ops, onnxruntime's arithmetic) or fixed-point (integer multiply and shift only)"),
    OptionSpec(names: ["--strict"], kind: .flag, help: "fail when any float island is left"),
    OptionSpec(
      names: ["--int-io"], kind: .flag,
      help: "integer graph inputs and outputs; their scales and zero points go into the metadata"),
    OptionSpec(names: ["--report"], kind: .value, help: "write the JSON report (Schemas/lower-report.schema.json)"),
    OptionSpec(names: ["--json"], kind: .flag, help: "print the JSON report instead of the summary"),
    OptionSpec(names: ["--explain"], kind: .flag, help: "also print every rule that did not apply and why"),
  ]
  static let positionalCount = 1...1

  static func run(_ arguments: ParsedArguments) throws -> Int32 {
    guard let output = arguments.value("--output") else { throw UsageError("missing -o OUT") }
    let options = try mappingOptions { try VerbOptions(arguments).loweringOptions() }
    let model = try loadInput(arguments.positionals[0])
    let externalData = outputExternalData(like: model)
    let log = RewriteLog()
    let report = try IntegerLowering.lower(model, options: options, log: log)
    let (_, json) = try saveModel(
      model, to: output, externalData: externalData, reportPath: arguments.value("--report")
    ) {
      try requestedJSON(report, arguments)
    }
    if arguments.has("--json") {
      print(json)
      return 0
    }
    var lines = ["wrote \(output) (target \(report.target))"]
    for lowered in report.lowered {
      lines.append("  \(lowered.rule): \(lowered.nodes.count) (\(lowered.nodes.joined(separator: ", ")))")
    }
    lines += report.notes.map { "  \($0)" }
    if report.islands.isEmpty {
      lines.append("no float island left")
    } else {
      lines.append("float islands (\(report.islands.count)):")
      lines += report.islands.map { "  \($0.node): \($0.reason)" }
    }
    if arguments.has("--explain") {
      lines += log.refusals.map { "not applied: \($0.rule) at \($0.node): \($0.reason)" }
    }
    print(lines.joined(separator: "\n"))
    return 0
  }
}
