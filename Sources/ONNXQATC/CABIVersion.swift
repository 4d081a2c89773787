import Foundation
import ONNXQAT

/// The version string in static storage, made once (thread-safe lazy global) and never freed.
private let versionCString: UnsafePointer<CChar>? = UnsafePointer(strdup(ONNXQATVersion.string))

/// `const char *onnxqat_version(void)`: the library version; static storage, not to be freed.
@_cdecl("onnxqat_version")
public func onnxqat_version() -> UnsafePointer<CChar>? { versionCString }

/// `void onnxqat_free(void *)`: frees a report or an output buffer this library returned.
@_cdecl("onnxqat_free")
public func onnxqat_free(_ pointer: UnsafeMutableRawPointer?) { free(pointer) }
