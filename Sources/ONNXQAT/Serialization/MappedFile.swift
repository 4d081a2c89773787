import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A read-only memory map of a whole file. Slices handed out as `Data` keep the map alive, so
/// tensors can point into a model file or an external data file without copying it.
final class MappedFile {
  let path: String
  let base: UnsafeRawPointer?
  let size: Int

  /// Maps `path`; throws `io` errors naming the path and the system's reason.
  init(path: String) throws {
    self.path = path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ONNXQATError.io(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      throw ONNXQATError.io(path: path, reason: String(cString: strerror(errno)))
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      throw ONNXQATError.io(path: path, reason: "is a folder, expected a file")
    }
    size = Int(info.st_size)
    if size == 0 {
      base = nil
      return
    }
    let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
    guard let mapped, mapped != MAP_FAILED else {
      throw ONNXQATError.io(path: path, reason: "cannot map: \(String(cString: strerror(errno)))")
    }
    madvise(mapped, size, MADV_SEQUENTIAL)
    base = UnsafeRawPointer(mapped)
  }

  deinit {
    if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
  }

  /// The bytes `offset..<offset+count`, sharing the map (the map lives as long as the Data).
  func slice(offset: Int, count: Int) -> Data {
    guard let base, count > 0 else { return Data() }
    return Data(
      bytesNoCopy: UnsafeMutableRawPointer(mutating: base + offset), count: count,
      deallocator: .custom { _, _ in withExtendedLifetime(self) {} })
  }
}
