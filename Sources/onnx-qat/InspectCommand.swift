import ONNXQAT

/// `onnx-qat inspect MODEL [--json]`: what a model contains, at a glance.
enum InspectCommand: Command {
  static let name = "inspect"
  static let summary =
    "Show a model's IR version, opsets, producer, inputs and outputs, op histogram, parameters, subgraphs, functions and external data."
  static let usage = "MODEL [--json]"
  static let options = [
    OptionSpec(names: ["--json"], kind: .flag, help: "print the summary as JSON (Schemas/inspect.schema.json)")
  ]
  static let positionalCount = 1...1

  static func run(_ arguments: ParsedArguments) throws -> Int32 {
    let summary = ModelSummary(try loadInput(arguments.positionals[0]))
    print(arguments.has("--json") ? try summary.json() : summary.text, terminator: arguments.has("--json") ? "\n" : "")
    return 0
  }
}
