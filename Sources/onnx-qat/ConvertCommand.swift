import ONNXQAT

/// `onnx-qat convert IN -o OUT`: re-serialize a model, moving tensors to or from external data.
enum ConvertCommand: Command {
  static let name = "convert"
  static let summary =
    "Re-serialize a model. An untouched model comes out equal to its input; tensors can move to or from external data."
  static let usage = "IN -o OUT [--external-data[=THRESHOLD_BYTES]] [--inline-external-data] [--json]"
  static let options = [
    OptionSpec(names: ["-o", "--output"], kind: .value, help: "output model path (required)"),
    OptionSpec(
      names: ["--external-data"], kind: .optionalValue,
      help: "store initializers of at least THRESHOLD_BYTES (default 1024) in OUT.data"),
    OptionSpec(names: ["--inline-external-data"], kind: .flag, help: "bring external tensors back into the model file"),
    OptionSpec(names: ["--json"], kind: .flag, help: "print the files written as JSON"),
  ]
  static let positionalCount = 1...1

  static func run(_ arguments: ParsedArguments) throws -> Int32 {
    guard let output = arguments.value("--output") else { throw UsageError("missing -o OUT") }
    let policy = try mappingOptions { try VerbOptions(arguments).externalDataPolicy() }
    let model = try loadInput(arguments.positionals[0])
    let written = try ModelSaver.save(model, to: output, externalData: policy)
    if arguments.has("--json") {
      print("{\"files\": [\(written.map { "\"\($0)\"" }.joined(separator: ", "))]}")
    } else {
      print("wrote \(written.joined(separator: ", "))")
    }
    return 0
  }
}
