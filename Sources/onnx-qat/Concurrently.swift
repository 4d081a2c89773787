import Dispatch

/// Runs `first` and `second` at the same time, `second` on another thread when a core is free,
/// and returns both results once both are done. The two must not touch the same mutable state.
func concurrently<First, Second>(_ first: () -> First, _ second: () -> Second) -> (First, Second) {
  var firstResult: First?
  var secondResult: Second?
  DispatchQueue.concurrentPerform(iterations: 2) { index in
    if index == 0 { firstResult = first() } else { secondResult = second() }
  }
  guard let firstResult, let secondResult else { preconditionFailure("concurrentPerform ran both iterations") }
  return (firstResult, secondResult)
}
