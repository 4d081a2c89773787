import Foundation
import ONNXQAT

/// `onnx-qat run MODEL`: run a model through the reference executor.
enum RunCommand: Command {
  static let name = "run"
  static let summary = "Run a model (float, fake-quant or integer) through the reference executor and save its outputs."
  static let usage =
    "MODEL --input NAME=FILE ... [--data DIR] [-o OUT_DIR] [--requant float|fixed-point] [--threads N] [--json]"
  static let options = [
    OptionSpec(
      names: ["--input"], kind: .value,
      help: "NAME=FILE.npy|.pb, or FILE.npz (member names are input names); repeat per input"),
    OptionSpec(
      names: ["--data"], kind: .value,
      help: "an ONNX test-data folder (input_0.pb, ...) or a folder of one .npz per sample"),
    OptionSpec(names: ["-o", "--output"], kind: .value, help: "folder for the outputs, one .npy per output"),
    OptionSpec(
      names: ["--requant"], kind: .value, help: "integer requantization: float (onnxruntime, default) or fixed-point"),
    OptionSpec(names: ["--threads"], kind: .value, help: "worker threads (default 1)"),
    OptionSpec(names: ["--json"], kind: .flag, help: "print a JSON summary (Schemas/run.schema.json)"),
  ]
  static let positionalCount = 1...1

  static func run(_ arguments: ParsedArguments) throws -> Int32 {
    var options = ExecutionOptions()
    if let parsed = try mappingOptions({ try VerbOptions(arguments).requantization() }) {
      options.requantization = parsed
    }
    if let text = arguments.value("--threads") {
      guard let threads = Int(text), threads >= 1 else { throw UsageError("--threads must be a positive number") }
      options.threads = threads
    }
    if arguments.all("--input").isEmpty && arguments.value("--data") == nil {
      throw UsageError("give the inputs with --input NAME=FILE or --data DIR")
    }
    let path = arguments.positionals[0]
    let model = try loadInput(path)
    let interpreter = try Interpreter(model: model, options: options)
    let initializers = Set(model.graph.initializers.map(\.name))
    let inputNames = model.graph.inputs.map(\.name).filter { !initializers.contains($0) }

    var fixed: [String: HostTensor] = [:]
    for argument in arguments.all("--input") {
      let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
      let loaded = try readingInput {
        parts.count == 2
          ? try TensorInputs.load(path: parts[1], name: parts[0]) : try TensorInputs.load(path: parts[0])
      }
      fixed.merge(loaded) { $1 }
    }
    let dataSamples = try readingInput {
      try arguments.value("--data").map { try TensorInputs.sampleFiles(folder: $0, inputNames: inputNames) }
    }
    let count = dataSamples?.count ?? 1
    // Samples are read and their outputs written one at a time; the outputs wait in a staging
    // folder and appear in OUT_DIR only once every sample ran.
    let staged = try arguments.value("--output").map { try StagedOutputFolder(folder: $0) }
    defer { staged?.discard() }
    var report = RunReport(
      model: path, requantization: options.requantization.rawValue, threads: options.threads, samples: [])
    for index in 0..<count {
      let (source, feeds) = try readingInput {
        try dataSamples.map { ($0[index].source, try $0[index].load().merging(fixed) { $1 }) } ?? ("--input", fixed)
      }
      let start = DispatchTime.now()
      let outputs: [String: HostTensor]
      do {
        outputs = try interpreter.run(feeds)
      } catch ONNXQATError.badArgument(let reason) where dataSamples != nil {
        // Name the sample: with --data a bad input may be in any one of many files.
        throw ONNXQATError.badArgument("\(arguments.value("--data") ?? "")/\(source): \(reason)")
      }
      let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
      var sample = RunReport.Sample(source: source, milliseconds: elapsed, outputs: [])
      for value in model.graph.outputs {
        guard let tensor = outputs[value.name] else { continue }
        let file = try staged.map { folder in
          try folder.write(
            try NumpyFile.write(tensor, name: value.name),
            to: (count > 1 ? "\(index)/" : "") + RunReport.fileName(for: value.name))
        }
        sample.outputs.append(RunReport.Output(name: value.name, tensor: tensor, file: file))
      }
      report.samples.append(sample)
    }
    try staged?.commit()
    if arguments.has("--json") {
      print(try report.json())
    } else {
      for sample in report.samples {
        print("\(sample.source): \(String(format: "%.2f", sample.milliseconds)) ms")
        for output in sample.outputs {
          let stats = [output.min, output.max, output.mean].map { $0.map { String(format: "%.6g", $0) } ?? "-" }
          print(
            "  \(output.name): \(output.dtype)\(output.shape) min \(stats[0]) max \(stats[1]) mean \(stats[2])"
              + (output.file.map { " -> \($0)" } ?? ""))
        }
      }
    }
    return 0
  }
}
