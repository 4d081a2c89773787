import Foundation

/// Which conversion each ai.onnx operator needs across which opset changes.
///
/// An entry applies to a node of one of `opTypes` when the upgrade passes one of the opsets in
/// `changes` (node's opset < change <= target); several entries of one op apply in table order.
/// `UpgradeOpset` requires every change that `OpsetSchemaVersions` marks as changed ("N!") or
/// deprecated, between the node's opset and the target, to be covered by an entry; changes of
/// types only or additive ones need none. Reviewed changes that keep old nodes valid are
/// listed as `.compatible`. Some entries cover changes of meaning that the schema signature
/// does not show (PRelu-7 slope broadcasting, Dropout-10 mask type, Resize-13 coordinate modes,
/// GroupNormalization-21 scale and bias).
///
/// Before (opset 11, Unsqueeze entry 13...13):  `y = Unsqueeze <axes = [0]> (x)`
/// After (opset 13):                              `y = Unsqueeze (x, axes)`
enum OpsetConversionTable {
  struct Entry {
    let opTypes: Set<String>
    /// The opsets whose changes this entry accounts for.
    let changes: ClosedRange<Int64>
    let conversion: OpsetConversion
  }

  static let consumedInputsOps: Set<String> = [
    "Abs", "Add", "BatchNormalization", "Ceil", "Clip", "Div", "Dropout", "Elu", "Exp", "Floor", "HardSigmoid",
    "InstanceNormalization", "LeakyRelu", "Log", "Max", "Mean", "Min", "Mul", "Neg", "PRelu", "Reciprocal", "Relu",
    "Selu", "Sigmoid", "Sqrt", "Sub", "Sum", "Tanh",
  ]

  static let legacyBroadcastOps: Set<String> = [
    "Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less", "Gemm",
  ]

  static let reduceOps18: Set<String> = [
    "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd",
    "ReduceSumSquare",
  ]

  typealias Move = AttributesToInputs.Move

  static let entries: [Entry] = [
    // Opsets 2-6.
    Entry(
      opTypes: ["Pad"], changes: 2...2,
      conversion: NoConversion.refuse("pad-1", "Pad-1 `paddings` has no conversion to `pads` here")),
    Entry(
      opTypes: ["Split"], changes: 2...2,
      conversion: NoConversion.refuse("split-1", "Split-1 (split sizes as an input, no default axis) is not converted")
    ),
    Entry(
      opTypes: ["LpPool", "GlobalLpPool"], changes: 2...2,
      conversion: NoConversion(
        name: "lp-pool-p", kind: .refuseAttribute("p", "opset 2 changed p from a float to an integer"))),
    Entry(opTypes: ["GRU"], changes: 3...3, conversion: NoConversion.compatible("gru-3")),
    Entry(
      opTypes: ["Concat"], changes: 4...4,
      conversion: ExplicitDefaults(name: "concat-explicit-axis", defaults: [.int("axis", 1)])),
    Entry(
      opTypes: ["Reshape"], changes: 5...5,
      conversion: AttributesToInputs(name: "reshape-shape-to-input", moves: [Move(attribute: "shape", required: true)])
    ),
    Entry(opTypes: ["Reshape"], changes: 5...5, conversion: RemoveConsumedInputs()),
    Entry(opTypes: consumedInputsOps, changes: 6...6, conversion: RemoveConsumedInputs()),
    Entry(
      opTypes: ["Selu"], changes: 6...6,
      conversion: ExplicitDefaults(
        name: "selu-explicit-defaults", defaults: [.float("alpha", 1.6732), .float("gamma", 1.0507)])),
    Entry(
      opTypes: ["Cast"], changes: 6...6,
      conversion: NoConversion.refuse("cast-1", "Cast-1 names its target type as a string; not converted")),
    Entry(
      opTypes: ["Tile"], changes: 6...6,
      conversion: NoConversion.refuse("tile-1", "Tile-1 (tiles and axis inputs) is not converted")),
    // Opset 7.
    Entry(opTypes: ["BatchNormalization", "Dropout"], changes: 7...7, conversion: RemoveIsTest()),
    Entry(opTypes: legacyBroadcastOps, changes: 7...7, conversion: LegacyBroadcast()),
    Entry(opTypes: ["PRelu"], changes: 7...7, conversion: PReluChannelSlope()),
    Entry(
      opTypes: ["GRU", "LSTM", "RNN"], changes: 7...7,
      conversion: NoConversion(
        name: "recurrent-output-sequence",
        kind: .refuseAttribute("output_sequence", "opset 7 removed it; Y is produced when it is an output"))),
    Entry(
      opTypes: ["Upsample"], changes: 7...7,
      conversion: NoConversion.refuse("upsample-1", "Upsample-1 (height_scale, width_scale) is not converted")),
    // Opsets 9-12.
    Entry(opTypes: ["BatchNormalization"], changes: 9...9, conversion: BatchNormalizationSpatial()),
    Entry(
      opTypes: ["Scan"], changes: 9...9,
      conversion: NoConversion.refuse("scan-8", "Scan-8 (batched, with sequence_lens) is not converted")),
    Entry(opTypes: ["Upsample"], changes: 9...10, conversion: UpsampleToResize()),
    Entry(opTypes: ["Dropout"], changes: 10...10, conversion: DropoutMaskType()),
    Entry(
      opTypes: ["Slice"], changes: 10...10,
      conversion: AttributesToInputs(
        name: "slice-attributes-to-inputs",
        moves: [
          Move(attribute: "starts", required: true), Move(attribute: "ends", required: true),
          Move(attribute: "axes", required: false),
        ])),
    Entry(
      opTypes: ["TopK"], changes: 10...10,
      conversion: AttributesToInputs(
        name: "topk-k-to-input", moves: [Move(attribute: "k", required: true, single: true)])),
    Entry(opTypes: ["Clip"], changes: 11...11, conversion: ClipBoundsToInputs()),
    Entry(opTypes: ["Pad"], changes: 11...11, conversion: PadAttributesToInputs()),
    Entry(opTypes: ["Resize"], changes: 11...11, conversion: ResizeTenToEleven()),
    Entry(opTypes: ["Scatter"], changes: 11...11, conversion: ScatterToScatterElements()),
    Entry(opTypes: ["Constant", "Gemm"], changes: 11...11, conversion: NoConversion.compatible("optional-since-11")),
    Entry(opTypes: ["Dropout"], changes: 12...12, conversion: DropoutRatioToInput()),
    // Opset 13.
    Entry(
      opTypes: ["Softmax", "LogSoftmax", "Hardmax"], changes: 13...13, conversion: SoftmaxSingleAxis()),
    Entry(
      opTypes: ["Unsqueeze"], changes: 13...13,
      conversion: AttributesToInputs(
        name: "unsqueeze-axes-to-input", moves: [Move(attribute: "axes", required: true)])),
    Entry(
      opTypes: ["Squeeze"], changes: 13...13,
      conversion: AttributesToInputs(
        name: "squeeze-axes-to-input", moves: [Move(attribute: "axes", required: false, emptyMeansAbsent: true)])),
    Entry(
      opTypes: ["ReduceSum"], changes: 13...13,
      conversion: AttributesToInputs(
        name: "reduce-axes-to-input", moves: [Move(attribute: "axes", required: false, emptyMeansAbsent: true)])),
    Entry(
      opTypes: ["Split"], changes: 13...13,
      conversion: AttributesToInputs(
        name: "split-sizes-to-input", moves: [Move(attribute: "split", required: false)])),
    Entry(opTypes: ["Resize"], changes: 13...13, conversion: ResizeTfHalfPixelForNN()),
    // Opsets 14-21.
    Entry(opTypes: ["BatchNormalization"], changes: 14...14, conversion: BatchNormalizationOutputs()),
    Entry(
      opTypes: reduceOps18, changes: 18...18,
      conversion: AttributesToInputs(
        name: "reduce-axes-to-input", moves: [Move(attribute: "axes", required: false, emptyMeansAbsent: true)])),
    Entry(opTypes: ["Split"], changes: 18...18, conversion: SplitNumOutputs()),
    Entry(opTypes: ["OptionalHasElement"], changes: 18...18, conversion: NoConversion.compatible("optional-input-18")),
    Entry(opTypes: ["GridSample"], changes: 20...20, conversion: GridSampleModes()),
    Entry(
      opTypes: ["DFT"], changes: 20...20,
      conversion: NoConversion.refuse("dft-17", "DFT-20 takes axis as an input with another default; not converted")),
    Entry(
      opTypes: ["GroupNormalization"], changes: 21...21,
      conversion: NoConversion.refuse(
        "group-normalization-18",
        "GroupNormalization-21 applies scale and bias per channel, not per group as in opset 18")),
  ]

  /// The entries for `opType` that apply when a node moves from opset `from` to `target`.
  static func entries(for opType: String, from: Int64, to target: Int64) -> [Entry] {
    entries.filter { $0.opTypes.contains(opType) && $0.changes.upperBound > from && $0.changes.lowerBound <= target }
  }
}
