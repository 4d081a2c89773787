import ONNXQAT

/// `onnx-qat print MODEL [--full]`: the model in ONNX text syntax.
enum PrintCommand: Command {
  static let name = "print"
  static let summary =
    "Print a model in ONNX text syntax (what onnx.parser reads). Tensors over 16 elements are elided as dtype, shape and hash unless --full."
  static let usage = "MODEL [--full]"
  static let options = [OptionSpec(names: ["--full"], kind: .flag, help: "print every tensor's values")]
  static let positionalCount = 1...1

  static func run(_ arguments: ParsedArguments) throws -> Int32 {
    let model = try loadInput(arguments.positionals[0])
    print(TextPrinter(options: .init(full: arguments.has("--full"))).print(model), terminator: "")
    return 0
  }
}
