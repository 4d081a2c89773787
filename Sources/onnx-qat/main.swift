import Foundation
import ONNXQAT

/// onnx-qat: ONNX quantization-aware training toolchain. Parses the verb and hands over.
let commands: [any Command.Type] = [
  InspectCommand.self, PrintCommand.self, ConvertCommand.self, RunCommand.self, FoldCommand.self,
  InsertCommand.self, LowerCommand.self, VerifyCommand.self,
]

func rootHelp() -> String {
  var lines = [
    "onnx-qat: take an ONNX model through quantization-aware training to an integer-only graph.",
    "", "usage: onnx-qat VERB [options]   (onnx-qat VERB --help for a verb's options)", "", "verbs:",
  ]
  for command in commands {
    lines.append("  " + command.name.padding(toLength: 10, withPad: " ", startingAt: 0) + command.summary)
  }
  return lines.joined(separator: "\n") + "\n"
}

AllocatorSettings.apply()
let arguments = Array(CommandLine.arguments.dropFirst())
guard let verb = arguments.first else {
  FileHandle.standardError.write(Data(rootHelp().utf8))
  exit(2)
}
if verb == "--help" || verb == "-h" || verb == "help" {
  print(rootHelp(), terminator: "")
  exit(0)
}
if verb == "--version" {
  print("onnx-qat \(ONNXQATVersion.string)")
  exit(0)
}
guard let command = commands.first(where: { $0.name == verb }) else {
  printError("unknown verb '\(verb)'\n\n\(rootHelp())")
  exit(2)
}
exit(command.main(Array(arguments.dropFirst())))
