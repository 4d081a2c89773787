/// Keeps `object` alive until the process exits, for a command that is done with a large model
/// and about to return: the operating system takes the memory back at once, where releasing a
/// graph of 100,000 nodes (each node, value and tensor one object) costs a noticeable share of a
/// fold or insert of it. Only for the last use of an object in a command; never in the library.
func keepUntilExit(_ object: AnyObject) {
  _ = Unmanaged.passRetained(object)
}
