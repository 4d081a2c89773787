/// A minimal protobuf wire-format walker used before and after protobuf-c parses a model: it
/// bounds message nesting (so a hostile file cannot exhaust the stack of a recursive parser)
/// and explains why a parse failed (where the bytes stop making sense).
enum WireScan {
  /// Deepest nesting of messages accepted. Real models nest a few dozen levels (graphs inside
  /// If/Loop bodies, types inside sequence types); protobuf-c recurses once per level.
  static let maxDepth = 200

  /// The ONNX message kinds through which messages nest.
  private enum Kind {
    case model, graph, node, function, training, attribute, sparse, valueInfo, type, typeOne, typeMap
    /// Kinds whose own sub-messages cannot nest further (TensorProto, TypeProto.Tensor).
    case leaf
  }

  /// The kind of sub-message field `field` of a `kind` message holds, enough to follow every path
  /// by which messages nest; nil for other fields (payloads such as raw_data are skipped unread).
  private static func child(of kind: Kind, field: UInt64) -> Kind? {
    switch (kind, field) {
    case (.model, 7): return .graph
    case (.model, 20): return .training
    case (.model, 25): return .function
    case (.graph, 1), (.function, 7): return .node
    case (.graph, 5), (.attribute, 5), (.attribute, 10), (.sparse, 1), (.sparse, 2): return .leaf
    case (.graph, 11), (.graph, 12), (.graph, 13): return .valueInfo
    case (.graph, 15), (.attribute, 22), (.attribute, 23): return .sparse
    case (.node, 5): return .attribute
    case (.training, 1), (.training, 2), (.attribute, 6), (.attribute, 11): return .graph
    case (.attribute, 14), (.attribute, 15), (.valueInfo, 2), (.typeOne, 1), (.typeMap, 2): return .type
    case (.type, 1), (.type, 8): return .leaf
    case (.type, 4), (.type, 9): return .typeOne
    case (.type, 5): return .typeMap
    default: return nil
    }
  }

  /// Walks `bytes` along the schema's message fields and throws when messages nest deeper than
  /// `maxDepth`. Malformed bytes end the walk quietly: protobuf-c reports those.
  static func checkNesting(_ bytes: UnsafeRawBufferPointer, path: String) throws {
    var stack: [(end: Int, kind: Kind)] = []
    var position = 0
    var end = bytes.count
    var kind = Kind.model
    while true {
      if position >= end {
        guard let outer = stack.popLast() else { return }
        position = end
        end = outer.end
        kind = outer.kind
        continue
      }
      guard let (tag, afterTag) = varint(bytes, position, end) else { return }
      switch tag & 7 {
      case 0:
        guard let (_, next) = varint(bytes, afterTag, end) else { return }
        position = next
      case 1: position = afterTag + 8
      case 5: position = afterTag + 4
      case 2:
        guard let (length, start) = varint(bytes, afterTag, end), length <= UInt64(end - start) else { return }
        let fieldEnd = start + Int(length)
        if let child = child(of: kind, field: tag >> 3) {
          if stack.count + 1 > maxDepth {
            throw ONNXQATError.malformedModel(
              path: path, reason: "messages are nested more than \(maxDepth) levels deep (at byte \(start))")
          }
          stack.append((end, kind))
          end = fieldEnd
          kind = child
          position = start
        } else {
          position = fieldEnd
        }
      default: return
      }
    }
  }

  /// Explains why the top level of `bytes` does not parse as a ModelProto.
  static func diagnose(_ bytes: UnsafeRawBufferPointer) -> String {
    let names: [UInt64: String] = [
      1: "ir_version", 2: "producer_name", 3: "producer_version", 4: "domain", 5: "model_version",
      6: "doc_string", 7: "graph", 8: "opset_import", 14: "metadata_props", 20: "training_info",
      25: "functions",
    ]
    var position = 0
    let end = bytes.count
    while position < end {
      guard let (tag, afterTag) = varint(bytes, position, end) else {
        return "the file ends inside a field header at byte \(position) of \(end) (truncated?)"
      }
      let number = tag >> 3
      let label = names[number].map { "field \(number) '\($0)'" } ?? "field \(number)"
      if number == 0 {
        return "byte \(position) starts a field numbered 0, which protobuf forbids: this is not a protobuf message"
      }
      switch tag & 7 {
      case 0:
        guard let (_, next) = varint(bytes, afterTag, end) else {
          return "\(label) at byte \(position) is cut off (truncated?)"
        }
        position = next
      case 1, 5:
        let width = tag & 7 == 1 ? 8 : 4
        if afterTag + width > end { return "\(label) at byte \(position) is cut off (truncated?)" }
        position = afterTag + width
      case 2:
        guard let (length, start) = varint(bytes, afterTag, end) else {
          return "\(label) at byte \(position) is cut off (truncated?)"
        }
        if length > UInt64(end - start) {
          return
            "\(label) at byte \(position) declares \(length) bytes but only \(end - start) remain (the file is truncated)"
        }
        position = start + Int(length)
      default:
        return
          "\(label) at byte \(position) has wire type \(tag & 7), which is not valid protobuf: this is not an ONNX model"
      }
    }
    return
      "a nested message is malformed or a field has the wrong wire type for ModelProto (is this another kind of protobuf, or a damaged file?)"
  }

  private static func varint(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> (UInt64, Int)? {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    var position = start
    while position < end && shift < 64 {
      let byte = bytes[position]
      result |= UInt64(byte & 0x7f) << shift
      position += 1
      if byte & 0x80 == 0 { return (result, position) }
      shift += 7
    }
    return nil
  }
}
