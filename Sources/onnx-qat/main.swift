import ONNXQAT
let args = CommandLine.arguments
do {
  let m = try ModelLoader.load(path: args[1])
  try ModelSaver.save(m, to: args[2])
} catch { print("error: \(error)") }
