import Foundation
import ONNXQAT

/// `onnx-qat verify --qdq Q.onnx --int I.onnx`: prove an integer graph computes what its
/// fake-quant graph promised.
enum VerifyCommand: Command {
  static let name = "verify"
  static let summary = "Run a fake-quant graph and its integer graph on the same samples and count the differences."
  static let usage =
    "--qdq Q.onnx --int I.onnx [--float F.onnx] (--data DIR | --calib synthetic:N) [--samples N] [--requant float|fixed-point] [--json]"
  static let options = [
    OptionSpec(names: ["--qdq"], kind: .value, help: "the fake-quant model"),
    OptionSpec(names: ["--int"], kind: .value, help: "the integer model lower wrote"),
    OptionSpec(names: ["--float"], kind: .value, help: "the float model, for SNR and top-1 agreement"),
    OptionSpec(names: ["--data"], kind: .value, help: "a folder of .npz samples or test_data_set_* folders"),
    OptionSpec(names: ["--calib"], kind: .value, help: "synthetic:N standard-normal samples (or a folder)"),
    OptionSpec(names: ["--samples"], kind: .value, help: "use at most N samples"),
    OptionSpec(
      names: ["--requant"], kind: .value, help: "integer requantization in the executor: float or fixed-point"),
    OptionSpec(names: ["--json"], kind: .flag, help: "print the JSON report"),
  ]
  static let positionalCount = 0...0

  static func run(_ arguments: ParsedArguments) throws -> Int32 {
    guard let qdqPath = arguments.value("--qdq"), let intPath = arguments.value("--int") else {
      throw UsageError("give --qdq Q.onnx and --int I.onnx")
    }
    let settings = try mappingOptions {
      try VerbOptions(arguments, excluded: ["qdq", "int", "float", "json"]).verifySettings()
    }
    guard let spec = settings.samples else {
      throw UsageError("give the samples with --data DIR or --calib synthetic:N")
    }
    let qdq = try loadInput(qdqPath)
    let integer = try loadInput(intPath)
    let float = try arguments.value("--float").map(loadInput)
    let source = try readingInput { try CalibrationSources.make(spec: spec, model: qdq) }
    let report = try Verifier.verify(
      qdq: qdq, integer: integer, float: float, samples: source, options: settings.execution,
      maxSamples: settings.maxSamples)
    if arguments.has("--json") {
      print(try report.json())
      return 0
    }
    var lines = [
      "\(report.samples) sample\(report.samples == 1 ? "" : "s"), \(report.tensorsCompared) integer tensors compared"
    ]
    for output in report.outputs {
      var line = "  \(output.name): \(output.differing) of \(output.elements) elements differ"
      line += String(
        format: " (max %.2f LSB; 0/1/2+ LSB: %d/%d/%d)", output.maxLSB, output.histogram[0],
        output.histogram[1], output.histogram[2])
      lines.append(line)
      if let a = output.fakeQuantVsFloat, let b = output.integerVsFloat {
        lines.append(
          String(
            format: "    vs float: fake-quant SNR %.2f dB cos %.6f; integer SNR %.2f dB cos %.6f, max error %.4g",
            a.snrDecibels, a.cosine, b.snrDecibels, b.cosine, b.maxAbsError))
      }
      if let top1 = output.top1IntegerVsFakeQuant {
        lines.append(
          String(format: "    top-1 agreement: %.2f%% with fake-quant", top1 * 100)
            + (output.top1IntegerVsFloat.map { String(format: ", %.2f%% with float", $0 * 100) } ?? ""))
      }
    }
    if let departure = report.firstDeparture {
      lines.append(
        "first departure: '\(departure.name)' from \(departure.node): \(departure.differing) of \(departure.elements) differ, max \(departure.maxDifference)"
      )
    } else {
      lines.append("no integer tensor departs")
    }
    print(lines.joined(separator: "\n"))
    return 0
  }
}
