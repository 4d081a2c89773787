import Foundation
import ONNXQAT

/// The human-readable account of an `insert` run.
enum InsertSummary {
  static func text(_ report: InsertReport, output: String, explain: Bool) -> String {
    var lines: [String] = []
    lines.append("wrote \(output)")
    lines.append(
      "preset \(report.preset), \(report.method) calibration on \(report.samples) sample\(report.samples == 1 ? "" : "s")"
        + (report.synthetic ? " (SYNTHETIC: scales not meaningful)" : "") + ", weights as \(report.weightsForm)")
    if report.opset.before != report.opset.after {
      lines.append("opset: ai.onnx \(report.opset.before) -> \(report.opset.after)")
    }
    lines.append("nodes: \(report.nodes.before) -> \(report.nodes.after)")
    let folded = report.rewrites.firings.map { "\($0.rule) \($0.count)" } + report.rewrites.notes.map(\.message)
    if !folded.isEmpty { lines.append("folded: " + folded.joined(separator: "; ")) }
    var byRole: [String: Int] = [:]
    for tensor in report.tensors { byRole[tensor.role, default: 0] += 1 }
    lines.append(
      "quantized: " + byRole.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
    for tensor in report.tensors where tensor.role == "weight" || tensor.role == "activation" {
      let scheme =
        tensor.axis.map { "per-channel axis \($0)" + (tensor.blockSize.map { " block \($0)" } ?? "") } ?? "per-tensor"
      let scale = tensor.scale.map { "scale \($0) zp \(tensor.zeroPoint ?? 0)" } ?? "\(tensor.scales ?? 0) scales"
      lines.append("  \(tensor.role) \(tensor.name): \(tensor.type) \(scheme), \(scale)")
    }
    if !report.absorbed.isEmpty {
      lines.append("absorbed into the range of their producer: " + report.absorbed.map(\.clamp).joined(separator: ", "))
    }
    if !report.floatNodes.isEmpty {
      lines.append("left float:")
      lines += report.floatNodes.map { "  \($0.node): \($0.reason)" }
    }
    for adjustment in report.biasAdjustments {
      lines.append(
        "bias \(adjustment.bias) of \(adjustment.node): weight scale raised on \(adjustment.channels.count) channel(s)")
    }
    lines += report.warnings.map { "warning: \($0)" }
    lines.append("float vs fake-quant on the calibration samples:")
    for metric in report.error {
      let snr = metric.snrDecibels.isFinite ? String(format: "%.2f dB", metric.snrDecibels) : "exact"
      lines.append(
        "  \(metric.output): SNR \(snr), cosine \(String(format: "%.6f", metric.cosine)), max abs error "
          + String(format: "%.6g", metric.maxAbsError))
    }
    if explain {
      lines += report.rewrites.refusals.map { "not applied: \($0.rule) at \($0.node): \($0.reason)" }
    }
    return lines.joined(separator: "\n")
  }
}
