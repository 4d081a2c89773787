/// Checks a tensor given for a graph input against the input's declared type.
enum InputCheck {
  static func describe(_ value: Value) -> String {
    guard let type = value.type else { return "a tensor" }
    return TextPrinter().typeString(type)
  }

  static func check(_ tensor: HostTensor, against value: Value) throws {
    guard let declared = value.type?.tensorType else { return }
    if let element = declared.elementType, element != tensor.dataType {
      throw ONNXQATError.badArgument(
        "input '\(value.name)': got \(tensor.typeDescription), expected element type \(element.name) (\(describe(value)))"
      )
    }
    guard let dims = declared.shape?.dims else { return }
    guard dims.count == tensor.rank else {
      throw ONNXQATError.badArgument(
        "input '\(value.name)': got \(tensor.typeDescription) of rank \(tensor.rank), expected rank \(dims.count) (\(describe(value)))"
      )
    }
    for (axis, (dimension, size)) in zip(dims, tensor.shape).enumerated() {
      if case .known(let expected) = dimension.size, expected != size {
        throw ONNXQATError.badArgument(
          "input '\(value.name)': got \(tensor.typeDescription), expected \(expected) on axis \(axis) (\(describe(value)))"
        )
      }
    }
  }
}
