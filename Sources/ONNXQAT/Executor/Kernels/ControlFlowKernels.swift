extension KernelRegistry {
  /// If, Loop and Scan: their bodies run through the interpreter with outer values visible.
  static func registerControlFlow(_ registry: inout KernelRegistry) {
    registry.register("If", ControlFlow.ifKernel)
    registry.register("Loop", ControlFlow.loopKernel)
    registry.register("Scan", versions: 8...8, ControlFlow.batchedScanKernel)
    registry.register("Scan", versions: 9...Int.max, ControlFlow.scanKernel)
  }
}

/// Control flow kernels.
///
/// - If: runs `then_branch` when the boolean scalar `cond` is true, else `else_branch`.
/// - Loop: `for i in 0..<M while cond`: body(i, cond, carried...) -> (cond, carried..., scans...);
///   outputs the final carried values, then each scan output stacked along a new axis 0.
///   M and cond are optional ("" inputs).
/// - Scan (opset 8): inputs are `sequence_lens` (optional; every length must be the full
///   sequence), then states and scan inputs with a leading batch axis; each batch entry is
///   scanned along axis 1 (`directions` per scan input) and the results are stacked on axis 0.
/// - Scan (opset 9+): slices each scan input along its `scan_input_axes` axis (reversed where
///   `scan_input_directions` says 1), runs the body per slice with the state, and stacks the
///   body's scan outputs along `scan_output_axes` (reversed per `scan_output_directions`).
enum ControlFlow {
  static func ifKernel(_ context: KernelContext) throws -> [HostTensor?] {
    let condition = try context.input(0)
    guard condition.count == 1, condition.dataType == .bool else {
      throw context.failure("input 0 'cond' is \(condition.typeDescription); expected a bool tensor with one element")
    }
    let branchName = condition.pointer(UInt8.self)[0] != 0 ? "then_branch" : "else_branch"
    guard let branch = context.graph(branchName) else { throw context.failure("attribute '\(branchName)' is missing") }
    return try context.runSubgraph(branch, inputs: [])
  }

  static func loopKernel(_ context: KernelContext) throws -> [HostTensor?] {
    guard let body = context.graph("body") else { throw context.failure("attribute 'body' is missing") }
    let tripCount = context.optionalInput(0).map { Int($0.element(at: 0)) }
    var condition = context.optionalInput(1).map { $0.element(at: 0) != 0 } ?? true
    var carried = try (2..<context.inputs.count).map { try context.input($0) }
    let scanCount = body.outputs.count - 1 - carried.count
    guard scanCount >= 0 else {
      throw context.failure("body has \(body.outputs.count) outputs; expected at least \(1 + carried.count)")
    }
    if tripCount == nil && context.optionalInput(1) == nil {
      throw context.failure("has neither a trip count nor a condition: it would never stop")
    }
    var scans = [[HostTensor]](repeating: [], count: scanCount)
    var iteration = 0
    while condition && (tripCount.map { iteration < $0 } ?? true) {
      let outputs = try context.runSubgraph(
        body,
        inputs: [.scalar(Int64(iteration)), HostTensor(.bool, shape: [], values: [UInt8(1)])] + carried)
      condition = outputs[0].element(at: 0) != 0
      carried = Array(outputs[1...carried.count])
      for index in 0..<scanCount { scans[index].append(outputs[1 + carried.count + index]) }
      iteration += 1
    }
    let stacked = try scans.enumerated().map { index, slices -> HostTensor in
      guard let first = slices.first else {
        let template = body.outputs[1 + carried.count + index].type?.tensorType
        return HostTensor(zeros: template?.elementType ?? .float, shape: [0])
      }
      return try AxisSlices.stack(slices, axis: 0, template: first, context: context)
    }
    return carried + stacked
  }

  static func batchedScanKernel(_ context: KernelContext) throws -> [HostTensor?] {
    guard let body = context.graph("body") else { throw context.failure("attribute 'body' is missing") }
    guard let scanInputCount = context.int("num_scan_inputs") else {
      throw context.failure("attribute 'num_scan_inputs' is missing")
    }
    let inputs = try (1..<context.inputs.count).map { try context.input($0) }
    let stateCount = inputs.count - scanInputCount
    guard stateCount >= 0, let batch = inputs.first?.shape.first else {
      throw context.failure("expected states and scan inputs with a leading batch axis")
    }
    let directions = context.ints("directions") ?? Array(repeating: 0, count: scanInputCount)
    let sequenceLength = inputs[stateCount...].first?.shape[1] ?? 0
    if let lengths = context.optionalInput(0), lengths.doubles().contains(where: { Int($0) != sequenceLength }) {
      throw context.failure("sequence_lens shorter than the sequence (\(sequenceLength)) are not supported")
    }
    var perBatch = [[HostTensor]](repeating: [], count: body.outputs.count)
    for entry in 0..<batch {
      var state = inputs[0..<stateCount].map { AxisSlices.slice($0, axis: 0, at: entry) }
      let sequences = inputs[stateCount...].map { AxisSlices.slice($0, axis: 0, at: entry) }
      var collected = [[HostTensor]](repeating: [], count: body.outputs.count - stateCount)
      for step in 0..<sequenceLength {
        let slices = sequences.enumerated().map { index, tensor in
          AxisSlices.slice(tensor, axis: 0, at: directions[index] == 1 ? sequenceLength - 1 - step : step)
        }
        let outputs = try context.runSubgraph(body, inputs: state + slices)
        state = Array(outputs[0..<stateCount])
        for index in collected.indices { collected[index].append(outputs[stateCount + index]) }
      }
      for index in 0..<stateCount { perBatch[index].append(state[index]) }
      for (index, slices) in collected.enumerated() {
        guard let first = slices.first else { throw context.failure("has an empty sequence") }
        perBatch[stateCount + index].append(try AxisSlices.stack(slices, axis: 0, template: first, context: context))
      }
    }
    return try perBatch.map { entries -> HostTensor? in
      guard let first = entries.first else { return nil }
      return try AxisSlices.stack(entries, axis: 0, template: first, context: context)
    }
  }

  static func scanKernel(_ context: KernelContext) throws -> [HostTensor?] {
    guard let body = context.graph("body") else { throw context.failure("attribute 'body' is missing") }
    guard let scanInputCount = context.int("num_scan_inputs") else {
      throw context.failure("attribute 'num_scan_inputs' is missing")
    }
    let inputs = try (0..<context.inputs.count).map { try context.input($0) }
    let stateCount = inputs.count - scanInputCount
    guard stateCount >= 0 else { throw context.failure("has fewer inputs than num_scan_inputs \(scanInputCount)") }
    let scanOutputCount = body.outputs.count - stateCount
    let inputAxes = context.ints("scan_input_axes") ?? Array(repeating: 0, count: scanInputCount)
    let inputDirections = context.ints("scan_input_directions") ?? Array(repeating: 0, count: scanInputCount)
    let outputAxes = context.ints("scan_output_axes") ?? Array(repeating: 0, count: scanOutputCount)
    let outputDirections = context.ints("scan_output_directions") ?? Array(repeating: 0, count: scanOutputCount)
    var state = Array(inputs[0..<stateCount])
    let scanInputs = Array(inputs[stateCount...])
    let axes = scanInputs.enumerated().map { index, tensor in
      inputAxes[index] < 0 ? inputAxes[index] + tensor.rank : inputAxes[index]
    }
    let lengths = zip(scanInputs, axes).map { $0.shape[$1] }
    guard let length = lengths.first, lengths.allSatisfy({ $0 == length }) else {
      throw context.failure("scan inputs have different lengths \(lengths) along their scan axes")
    }
    var collected = [[HostTensor]](repeating: [], count: scanOutputCount)
    for step in 0..<length {
      let slices = scanInputs.enumerated().map { index, tensor in
        AxisSlices.slice(tensor, axis: axes[index], at: inputDirections[index] == 1 ? length - 1 - step : step)
      }
      let outputs = try context.runSubgraph(body, inputs: state + slices)
      state = Array(outputs[0..<stateCount])
      for index in 0..<scanOutputCount { collected[index].append(outputs[stateCount + index]) }
    }
    let stacked = try collected.enumerated().map { index, slices -> HostTensor in
      let ordered = outputDirections[index] == 1 ? Array(slices.reversed()) : slices
      guard let first = ordered.first else {
        return HostTensor(zeros: body.outputs[stateCount + index].type?.tensorType?.elementType ?? .float, shape: [0])
      }
      let axis = outputAxes[index] < 0 ? outputAxes[index] + first.rank + 1 : outputAxes[index]
      return try AxisSlices.stack(ordered, axis: axis, template: first, context: context)
    }
    return state + stacked
  }
}

/// Taking one index along an axis, and stacking equal tensors along a new axis (for Loop and
/// Scan), copying contiguous runs of bytes.
enum AxisSlices {
  static func slice(_ tensor: HostTensor, axis: Int, at index: Int) -> HostTensor {
    var shape = tensor.shape
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    let length = shape[axis]
    shape.remove(at: axis)
    if tensor.dataType == .string {
      let strings = tensor.strings
      let picked = (0..<outer).flatMap { o in (0..<inner).map { strings[(o * length + index) * inner + $0] } }
      return HostTensor(strings: picked, shape: shape)
    }
    let result = HostTensor(zeros: tensor.dataType, shape: shape)
    let stride = tensor.dataType.storageStride
    let run = inner * stride
    for o in 0..<outer {
      (result.buffer.raw + o * run).copyMemory(
        from: tensor.buffer.raw + ((o * length + index) * inner) * stride, byteCount: run)
    }
    return result
  }

  static func stack(_ slices: [HostTensor], axis: Int, template: HostTensor, context: KernelContext) throws
    -> HostTensor
  {
    for slice in slices where slice.shape != template.shape || slice.dataType != template.dataType {
      throw context.failure(
        "iterations produced \(slice.typeDescription) and \(template.typeDescription); expected equal shapes")
    }
    var shape = template.shape
    shape.insert(slices.count, at: axis)
    let outer = template.shape[..<axis].reduce(1, *)
    let inner = template.shape[axis...].reduce(1, *)
    if template.dataType == .string {
      var strings: [String] = []
      for o in 0..<outer {
        for slice in slices { strings += slice.strings[(o * inner)..<((o + 1) * inner)] }
      }
      return HostTensor(strings: strings, shape: shape)
    }
    let result = HostTensor(zeros: template.dataType, shape: shape)
    let stride = template.dataType.storageStride
    let run = inner * stride
    for o in 0..<outer {
      for (index, slice) in slices.enumerated() {
        (result.buffer.raw + (o * slices.count + index) * run).copyMemory(
          from: slice.buffer.raw + o * run, byteCount: run)
      }
    }
    return result
  }
}
