import Foundation

/// Calibration samples read from a folder, one at a time, in a deterministic order:
/// - one `.npz` archive per sample, whose member names are graph input names, sorted by name; or
/// - ONNX test-data folders `test_data_set_N` in the order of N, each holding `input_0.pb`, `input_1.pb`, ... in
///   the order of the graph's inputs (initializers excluded); or
/// - the folder itself being one test-data folder (`input_*.pb`): a single sample.
///
/// Each sample is checked against the graph (every input present, no unknown names, element
/// type and shape as declared) and errors name the file and the tensor.
public struct FolderCalibrationSource: CalibrationSource {
  public enum Layout: Equatable, Sendable { case archives, testDataSets, testDataFolder }

  public let folder: String
  public let layout: Layout
  /// The sample files or folders, in the order they are read.
  public let entries: [String]
  private let inputs: [Value]
  private var position = 0

  public init(folder: String, model: Model) throws {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
      throw ONNXQATError.badArgument("calibration folder \(folder) does not exist or is not a folder")
    }
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    } catch {
      throw ONNXQATError.io(path: folder, reason: "cannot list the calibration folder: \(error.localizedDescription)")
    }
    let base = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
    let archives = names.filter { $0.lowercased().hasSuffix(".npz") }
    let sets = names.filter { name in
      var isSet: ObjCBool = false
      return name.hasPrefix("test_data_set_")
        && FileManager.default.fileExists(atPath: base + "/" + name, isDirectory: &isSet) && isSet.boolValue
    }.sorted { (Self.setNumber($0), $0) < (Self.setNumber($1), $1) }
    let protos = names.filter { $0.hasPrefix("input_") && $0.hasSuffix(".pb") }
    if !archives.isEmpty {
      layout = .archives
      entries = archives.map { base + "/" + $0 }
    } else if !sets.isEmpty {
      layout = .testDataSets
      entries = sets.map { base + "/" + $0 }
    } else if !protos.isEmpty {
      layout = .testDataFolder
      entries = [base]
    } else {
      throw ONNXQATError.badArgument(
        "calibration folder \(folder) has no samples (.npz files or test_data_set_* folders)")
    }
    self.folder = folder
    let initializers = Set(model.graph.initializers.map { ObjectIdentifier($0) })
    inputs = model.graph.inputs.filter { !initializers.contains(ObjectIdentifier($0)) }
  }

  public var sampleCount: Int? { entries.count }

  /// The number of `test_data_set_N` (so that 10 comes after 9); names without one sort last.
  static func setNumber(_ name: String) -> Int { Int(name.dropFirst("test_data_set_".count)) ?? Int.max }

  public mutating func nextSample() throws -> [String: HostTensor]? {
    guard position < entries.count else { return nil }
    let entry = entries[position]
    position += 1
    let sample: [String: HostTensor]
    switch layout {
    case .archives:
      sample = try TensorInputs.load(path: entry)
    case .testDataSets, .testDataFolder:
      sample = try Self.loadTestData(folder: entry, inputNames: inputs.map(\.name))
    }
    try Self.check(sample, against: inputs, source: entry)
    return sample
  }

  /// The tensors of a test-data folder: `input_N.pb` is graph input N.
  static func loadTestData(folder: String, inputNames: [String]) throws -> [String: HostTensor] {
    let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
      .filter { $0.hasPrefix("input_") && $0.hasSuffix(".pb") }
    guard !files.isEmpty else {
      throw ONNXQATError.badArgument("calibration sample \(folder): no input_*.pb files")
    }
    var sample: [String: HostTensor] = [:]
    for file in files {
      guard let index = Int(file.dropFirst(6).dropLast(3)), index >= 0, index < inputNames.count else {
        throw ONNXQATError.badArgument(
          "calibration sample \(folder)/\(file): the model has \(inputNames.count) input"
            + "\(inputNames.count == 1 ? "" : "s"); no input matches this file")
      }
      sample[inputNames[index]] = try HostTensor(try TensorFile.load(path: folder + "/" + file))
    }
    return sample
  }

  /// Checks that `sample` gives exactly the graph's inputs with their declared types and shapes.
  static func check(_ sample: [String: HostTensor], against inputs: [Value], source: String) throws {
    let names = inputs.map(\.name)
    for key in sample.keys.sorted() where !names.contains(key) {
      throw ONNXQATError.badArgument(
        "calibration sample \(source): tensor '\(key)' is not an input of the model (inputs: "
          + "\(names.joined(separator: ", ")))")
    }
    for value in inputs {
      guard let tensor = sample[value.name] else {
        throw ONNXQATError.badArgument(
          "calibration sample \(source): input '\(value.name)' is missing (expected \(InputCheck.describe(value)))")
      }
      do {
        try InputCheck.check(tensor, against: value)
      } catch let error as ONNXQATError {
        throw ONNXQATError.badArgument("calibration sample \(source): \(error.description)")
      }
    }
  }
}
