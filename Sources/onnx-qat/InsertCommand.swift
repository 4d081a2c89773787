import Foundation
import ONNXQAT

/// `onnx-qat insert MODEL -o OUT --calib DIR|synthetic:N`: fold, calibrate and write the
/// fake-quant (Q/DQ) model.
enum InsertCommand: Command {
  static let name = "insert"
  static let summary = "Fold, calibrate and insert QuantizeLinear/DequantizeLinear pairs: the fake-quant graph."
  static let usage = """
    MODEL -o OUT --calib DIR|synthetic:N [--calib-samples N] [--method minmax|percentile|entropy|mse]
            [--percentile P] [--moving-average] [--preset ort|tensorrt|tflite] [--recipe FILE.json]
            [--activations uint8|int8|uint16|int16] [--weights int8|int4] [--block-size B] [--per-tensor] [--reduce-range]
            [--weights-form qdq|dq] [--exclude NAME_OR_OPTYPE ...] [--keep-io-float]
            [--report FILE.json] [--json] [--explain]
    """
  static let options = [
    OptionSpec(names: ["-o", "--output"], kind: .value, help: "output model path (required)"),
    OptionSpec(
      names: ["--calib"], kind: .value,
      help: "a folder of .npz samples or test_data_set_* folders, or synthetic:N (not meaningful scales)"),
    OptionSpec(names: ["--calib-samples"], kind: .value, help: "use at most N samples"),
    OptionSpec(names: ["--method"], kind: .value, help: "minmax (default), percentile, entropy or mse"),
    OptionSpec(names: ["--percentile"], kind: .value, help: "percentile for --method percentile (default 99.999)"),
    OptionSpec(names: ["--moving-average"], kind: .flag, help: "minmax: moving average of per-sample ranges"),
    OptionSpec(names: ["--preset"], kind: .value, help: "ort (default), tensorrt or tflite"),
    OptionSpec(names: ["--recipe"], kind: .value, help: "a JSON recipe (Schemas/recipe.schema.json)"),
    OptionSpec(names: ["--activations"], kind: .value, help: "activation type: uint8, int8, uint16 or int16"),
    OptionSpec(names: ["--weights"], kind: .value, help: "weight type: int8 (default) or int4"),
    OptionSpec(names: ["--block-size"], kind: .value, help: "blocked weights with B elements per block (opset 21)"),
    OptionSpec(names: ["--per-tensor"], kind: .flag, help: "one weight scale per tensor instead of per channel"),
    OptionSpec(
      names: ["--reduce-range"], kind: .flag,
      help: "7-bit weights, for onnxruntime's AVX2 uint8 x int8 kernels (no VNNI), which saturate int16 pair sums"),
    OptionSpec(
      names: ["--weights-form"], kind: .value,
      help: "qdq (float weights behind Q->DQ, default) or dq (integer weights behind DQ)"),
    OptionSpec(names: ["--exclude"], kind: .value, help: "a node name or op type to leave float; repeatable"),
    OptionSpec(names: ["--keep-io-float"], kind: .flag, help: "no Q/DQ on the graph's input and output tensors"),
    OptionSpec(names: ["--report"], kind: .value, help: "write the JSON report (Schemas/report.schema.json)"),
    OptionSpec(names: ["--json"], kind: .flag, help: "print the JSON report instead of the summary"),
    OptionSpec(names: ["--explain"], kind: .flag, help: "also print every rewrite not applied and why"),
  ]
  static let positionalCount = 1...1

  static func run(_ arguments: ParsedArguments) throws -> Int32 {
    guard let output = arguments.value("--output") else { throw UsageError("missing -o OUT") }
    let settings = try mappingOptions { try VerbOptions(arguments).insertSettings() }
    guard let calibrationSpec = settings.calibration else { throw UsageError("missing --calib DIR|synthetic:N") }
    let model = try loadInput(arguments.positionals[0])
    let externalData = outputExternalData(like: model)
    let synthetic = calibrationSpec.hasPrefix("synthetic:")
    if synthetic {
      printWarning("--calib \(calibrationSpec): synthetic standard-normal samples; the scales are not meaningful")
    }
    let factory: QDQInsertion.SourceFactory = { try CalibrationInput.spec(calibrationSpec).makeSource(for: model) }
    let bar = ProgressBar(label: "calibrating")
    let report = try QDQInsertion.insert(
      model, options: settings.quantization, calibration: factory, synthetic: synthetic, progress: bar.update)
    bar.finish()
    let (_, json) = try saveModel(
      model, to: output, externalData: externalData, reportPath: arguments.value("--report")
    ) {
      try requestedJSON(report, arguments)
    }
    keepUntilExit(model)
    if arguments.has("--json") {
      print(json)
    } else {
      print(InsertSummary.text(report, output: output, explain: arguments.has("--explain")))
    }
    return 0
  }
}
