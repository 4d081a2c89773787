import Foundation

/// How `insert` treats each op type: which inputs are activations, which is a weight (and its
/// output-channel axis), which is a bias, and whether the output gets parameters of its own, the
/// same parameters as its input (data-movement ops), or a fixed range.
public struct QuantizableOp: Sendable {
  public enum OutputRule: Sendable {
    /// Calibrated parameters of its own.
    case calibrated
    /// The same scale and zero point as activation input 0 (data movement, MaxPool).
    case sharesInput
    /// A fixed range, e.g. Softmax's [0, 1].
    case fixedRange(Float, Float)
    /// No Q/DQ on the output (it is integer or not numeric).
    case none
  }

  /// Inputs quantized as activations (calibrated, per tensor).
  public var activationInputs: [Int]
  /// The weight input when it is a constant, and its output-channel axis (nil when the op decides
  /// at the node, see `weightAxis`).
  public var weightInput: Int?
  /// The bias input when it is a constant: int32 at scale `s_x * s_w`.
  public var biasInput: Int?
  public var output: OutputRule
  /// Inputs, besides input 0, that may be constant and are then quantized per tensor (Add, Mul).
  public var constantOperands: Bool = false

  /// The op table. Ops missing here stay float; the report says "not a quantizable op".
  public static let table: [String: QuantizableOp] = {
    var table: [String: QuantizableOp] = [:]
    let compute = QuantizableOp(activationInputs: [0], weightInput: 1, biasInput: 2, output: .calibrated)
    table["Conv"] = compute
    table["ConvTranspose"] = compute
    table["Gemm"] = compute
    table["MatMul"] = QuantizableOp(activationInputs: [0, 1], weightInput: 1, biasInput: nil, output: .calibrated)
    for op in ["Add", "Mul"] {
      table[op] = QuantizableOp(
        activationInputs: [0, 1], weightInput: nil, biasInput: nil, output: .calibrated, constantOperands: true)
    }
    table["Concat"] = QuantizableOp(activationInputs: [], weightInput: nil, biasInput: nil, output: .calibrated)
    for op in [
      "AveragePool", "GlobalAveragePool", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "LeakyRelu", "Gelu",
      "ReduceMean", "Resize", "InstanceNormalization", "LayerNormalization", "Sqrt", "Erf",
    ] {
      table[op] = QuantizableOp(activationInputs: [0], weightInput: nil, biasInput: nil, output: .calibrated)
    }
    table["Softmax"] = QuantizableOp(activationInputs: [0], weightInput: nil, biasInput: nil, output: .fixedRange(0, 1))
    for op in [
      "MaxPool", "GlobalMaxPool", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Slice", "Split",
      "Gather", "Pad", "DepthToSpace", "SpaceToDepth", "Identity", "Expand", "Tile",
    ] {
      table[op] = QuantizableOp(activationInputs: [0], weightInput: nil, biasInput: nil, output: .sharesInput)
    }
    return table
  }()

  /// Ops whose float output feeds straight into a clamp that `insert` absorbs into the range of
  /// the clamp's output (the clamp stays; its output gets the Q/DQ).
  public static let absorbedActivations: Set<String> = ["Relu", "Clip"]

  /// The ops TensorRT's explicit quantization wants Q/DQ in front of (`--preset tensorrt`).
  public static let tensorRTComputeOps: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul"]

  /// The output-channel axis of the weight of `node` for per-channel quantization, or nil when
  /// only per-tensor applies (skip cases: 1. ConvTranspose with group > 1, whose axis 1 counts
  /// only one group's channels; 2. a MatMul weight that is not 2-D).
  public static func weightAxis(_ node: Node, weightRank: Int) -> Int? {
    switch node.opType {
    case "Conv": return 0
    case "ConvTranspose": return node.int("group", default: 1) == 1 ? 1 : nil
    case "Gemm": return node.int("transB", default: 0) == 1 ? 0 : 1
    case "MatMul": return weightRank == 2 ? 1 : nil
    default: return nil
    }
  }

  /// The reduction axis of the weight of `node` (the axis blocked quantization splits).
  public static func weightReductionAxis(_ node: Node) -> Int? {
    switch node.opType {
    case "Conv": return 1
    case "Gemm": return node.int("transB", default: 0) == 1 ? 1 : 0
    case "MatMul": return 0
    default: return nil
    }
  }
}
