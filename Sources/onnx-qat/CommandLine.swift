import Foundation
import ONNXQAT

/// A verb of the command line: its options, its help text, and what it does.
protocol Command {
  static var name: String { get }
  static var summary: String { get }
  /// Usage lines after `onnx-qat NAME`.
  static var usage: String { get }
  static var options: [OptionSpec] { get }
  /// Positional arguments accepted (min, max).
  static var positionalCount: ClosedRange<Int> { get }
  /// Runs the verb; returns the exit code.
  static func run(_ arguments: ParsedArguments) throws -> Int32
}

/// One option: `--name VALUE`, a flag, or `--name[=VALUE]` with an optional value.
struct OptionSpec {
  enum Kind { case flag, value, optionalValue }
  let names: [String]
  let kind: Kind
  let help: String
  var key: String { names.last ?? "" }
}

/// Usage errors: printed with the verb's usage line, exit code 2.
struct UsageError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

struct ParsedArguments {
  var positionals: [String] = []
  /// Every value given for each option, in order (options may repeat, e.g. `--input`).
  var values: [String: [String]] = [:]
  var flags: Set<String> = []

  /// The last value given for `key`.
  func value(_ key: String) -> String? { values[key]?.last }
  func all(_ key: String) -> [String] { values[key] ?? [] }
  func has(_ key: String) -> Bool { flags.contains(key) || values[key] != nil }

  static func parse(_ arguments: [String], options: [OptionSpec]) throws -> ParsedArguments {
    var parsed = ParsedArguments()
    var index = 0
    var onlyPositionals = false
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if onlyPositionals || !argument.hasPrefix("-") || argument == "-" {
        parsed.positionals.append(argument)
        continue
      }
      if argument == "--" {
        onlyPositionals = true
        continue
      }
      let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
      guard let spec = options.first(where: { $0.names.contains(parts[0]) }) else {
        throw UsageError("unknown option '\(parts[0])'")
      }
      switch spec.kind {
      case .flag:
        if parts.count > 1 { throw UsageError("option '\(parts[0])' takes no value") }
        parsed.flags.insert(spec.key)
      case .optionalValue:
        if parts.count > 1 {
          parsed.values[spec.key, default: []].append(parts[1])
        } else {
          parsed.flags.insert(spec.key)
        }
      case .value:
        if parts.count > 1 {
          parsed.values[spec.key, default: []].append(parts[1])
        } else {
          guard index < arguments.count else { throw UsageError("option '\(parts[0])' needs a value") }
          parsed.values[spec.key, default: []].append(arguments[index])
          index += 1
        }
      }
    }
    return parsed
  }
}

extension Command {
  static var helpText: String {
    var lines = ["\(summary)", "", "usage: onnx-qat \(name) \(usage)", "", "options:"]
    let all = options + [OptionSpec(names: ["-h", "--help"], kind: .flag, help: "show this help")]
    for option in all {
      var label = option.names.joined(separator: ", ")
      switch option.kind {
      case .value: label += " VALUE"
      case .optionalValue: label += "[=VALUE]"
      case .flag: break
      }
      lines.append("  " + label.padding(toLength: max(28, label.count + 2), withPad: " ", startingAt: 0) + option.help)
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Parses `arguments`, handles `--help`, runs the verb, and maps errors to exit codes.
  static func main(_ arguments: [String]) -> Int32 {
    if arguments.contains("--help") || arguments.contains("-h") {
      print(helpText, terminator: "")
      return 0
    }
    do {
      let parsed = try ParsedArguments.parse(arguments, options: options)
      guard positionalCount.contains(parsed.positionals.count) else {
        throw UsageError(
          parsed.positionals.count < positionalCount.lowerBound
            ? "missing argument" : "unexpected argument '\(parsed.positionals.last ?? "")'")
      }
      return try run(parsed)
    } catch let error as UsageError {
      printError("\(name): \(error)\nusage: onnx-qat \(name) \(usage)")
      return 2
    } catch let error as ONNXQATError {
      printError("\(error)")
      return error.isBadInput ? 2 : 1
    } catch {
      printError("\(error)")
      return 1
    }
  }
}

func printError(_ message: String) {
  FileHandle.standardError.write(Data("onnx-qat: error: \(message)\n".utf8))
}

func printWarning(_ message: String) {
  FileHandle.standardError.write(Data("onnx-qat: warning: \(message)\n".utf8))
}

/// Runs `body`, which reads the user's input files; failing to read them is bad input (exit 2).
func readingInput<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as ONNXQATError {
    if case .io(let path, let reason) = error { throw ONNXQATError.badArgument("\(path): \(reason)") }
    throw error
  }
}

/// The models the command line loaded, kept until the process exits. Every verb works on its
/// input models (in place) until it returns, and `main` then calls `exit`: the operating system
/// takes the memory back at once, where tearing down the object graph of a 100,000-node model
/// (and the message tree its tensors share) node by node costs a good part of a `convert`.
/// Nothing is lost by skipping it: outputs are written, closed and renamed into place by
/// `ModelSaver` before a verb returns, and nothing else is released at teardown.
nonisolated(unsafe) private var modelsKeptUntilExit: [Model] = []

/// Loads an input model; any failure to read or parse it is bad input (exit code 2). The model
/// is never freed (see `modelsKeptUntilExit`).
func loadInput(_ path: String) throws -> Model {
  let model = try readingInput { try ModelLoader.load(path: path) }
  modelsKeptUntilExit.append(model)
  return model
}

/// The verb's JSON report when `--json` or `--report` asks for it, and "" otherwise: encoding
/// the report of a 100,000-node graph takes about a second that nobody would read.
func requestedJSON(_ report: some JSONReport, _ arguments: ParsedArguments) throws -> String {
  arguments.has("--json") || arguments.value("--report") != nil ? try report.json() : ""
}

/// How fold, insert and lower store their output's tensors: as the input did. When the input
/// kept tensors in external data (large models must), every initializer at least as large as its
/// smallest external tensor goes to external data, the ones the passes made included, so that
/// rewriting the weights of a multi-gigabyte model does not pull them into a model file protobuf
/// cannot hold. An input without external data gives an output without it.
func outputExternalData(like input: Model) -> ExternalDataPolicy {
  let sizes = input.allGraphs.flatMap { graph in
    graph.initializers.compactMap { value in value.initializer.flatMap { $0.isExternal ? $0.storedByteCount : nil } }
  }
  guard let smallest = sizes.min() else { return .keep }
  return .externalize(threshold: max(smallest, 1))
}

/// Saves `model` to `output` while `report` encodes the JSON report on a second thread (the two
/// share nothing, and on a graph of 100,000 nodes each takes about a second), then writes the
/// report to `reportPath` when asked, all or nothing: if the report cannot be made or written the
/// run failed, so the model files go too. Returns the files written for the model and the JSON.
@discardableResult
func saveModel(
  _ model: Model, to output: String, externalData policy: ExternalDataPolicy, reportPath: String?,
  report: () throws -> String
) throws -> (files: [String], json: String) {
  let (saved, encoded) = concurrently(
    { Result { try ModelSaver.save(model, to: output, externalData: policy) } }, { Result { try report() } })
  let written = try saved.get()
  do {
    let json = try encoded.get()
    if let reportPath { try AtomicFile.write(Data((json + "\n").utf8), to: reportPath) }
    return (written, json)
  } catch {
    for file in written { try? FileManager.default.removeItem(atPath: file) }
    throw error
  }
}
