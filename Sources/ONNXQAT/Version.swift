/// The version of onnx-qat, as `--version` and the C ABI report it.
public enum ONNXQATVersion {
  public static let string = "0.1.0"
}
