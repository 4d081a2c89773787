import Foundation
import ONNXQAT

/// A one-line progress bar with ETA on stderr, drawn only when stderr is a terminal.
final class ProgressBar {
  private let label: String
  private let enabled = isatty(2) == 1
  private var drawn = false

  init(label: String) { self.label = label }

  func update(_ progress: CalibrationProgress) {
    guard enabled else { return }
    var line = "\(label) \(progress.done)"
    if let total = progress.total, total > 0 {
      let width = 30
      let filled = min(width, progress.done * width / total)
      line +=
        "/\(total) [" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "]"
    }
    if let remaining = progress.estimatedRemaining { line += String(format: " ETA %.1fs", remaining) }
    FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
    drawn = true
  }

  func finish() {
    if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}
