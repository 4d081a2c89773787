// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "onnx-qat",
  products: [
    .library(name: "ONNXQAT", targets: ["ONNXQAT"]),
    .executable(name: "onnx-qat", targets: ["onnx-qat"]),
    // libonnxqat: the C ABI (Sources/ONNXQATC/onnxqat.h), installed by `make install`.
    .library(name: "onnxqat", type: .dynamic, targets: ["ONNXQATC"]),
  ],
  targets: [
    .systemLibrary(
      name: "CProtobufC",
      pkgConfig: "libprotobuf-c",
      providers: [.apt(["libprotobuf-c-dev"])]
    ),
    .target(name: "ONNXProto", dependencies: ["CProtobufC"]),
    .target(name: "CIntegerKernels"),
    // glibc malloc thresholds for the command-line tool (Sources/onnx-qat/AllocatorSettings.swift).
    .target(name: "CAllocatorSettings"),
    .target(name: "ONNXQAT", dependencies: ["ONNXProto", "CIntegerKernels"]),
    .target(name: "ONNXQATC", dependencies: ["ONNXQAT"], exclude: ["onnxqat.h"]),
    .executableTarget(name: "onnx-qat", dependencies: ["ONNXQAT", "CAllocatorSettings"]),
    .testTarget(name: "ONNXQATTests", dependencies: ["ONNXQAT", "ONNXQATC"]),
  ],
  swiftLanguageModes: [.v5]
)
