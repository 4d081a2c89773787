extension KernelRegistry {
  /// Data-movement kernels: ops that move, pick or fill elements without arithmetic on them
  /// (Resize's linear and cubic modes and the Scatter reductions excepted), generic over the
  /// element storage so that every element type works (see `Kernels/DataMovement/`).
  static func registerDataMovement(_ registry: inout KernelRegistry) {
    registry.register("Reshape", DataMovement.reshape)
    registry.register("Flatten", DataMovement.flatten)
    registry.register("Squeeze", DataMovement.squeeze)
    registry.register("Unsqueeze", DataMovement.unsqueeze)
    registry.register("Transpose", DataMovement.transpose)
    registry.register("DepthToSpace", DataMovement.depthToSpace)
    registry.register("SpaceToDepth", DataMovement.spaceToDepth)
    registry.register("Concat", DataMovement.concat)
    registry.register("Split", DataMovement.split)
    registry.register("Slice", DataMovement.slice)
    registry.register("Gather", DataMovement.gather)
    registry.register("GatherElements", versions: 11...Int.max, DataMovement.gatherElements)
    registry.register("GatherND", versions: 11...Int.max, DataMovement.gatherND)
    registry.register("ScatterND", versions: 11...Int.max, DataMovement.scatterND)
    registry.register("ScatterElements", versions: 11...Int.max, DataMovement.scatterElements)
    registry.register("Scatter", versions: 9...10, DataMovement.scatterElements)
    registry.register("Expand", versions: 8...Int.max, DataMovement.expand)
    registry.register("Tile", versions: 6...Int.max, DataMovement.tile)
    registry.register("Pad", DataMovement.pad)
    registry.register("Shape", DataMovement.shape)
    registry.register("Size", DataMovement.size)
    registry.register("Constant", DataMovement.constant)
    registry.register("ConstantOfShape", versions: 9...Int.max, DataMovement.constantOfShape)
    registry.register("Range", versions: 11...Int.max, DataMovement.range)
    registry.register("EyeLike", versions: 9...Int.max, DataMovement.eyeLike)
    registry.register("NonZero", versions: 9...Int.max, DataMovement.nonZero)
    registry.register("Trilu", versions: 14...Int.max, DataMovement.trilu)
    registry.register("TopK", DataMovement.topK)
    registry.register("Resize", versions: 10...Int.max, DataMovement.resize)
    registry.register("Upsample", versions: 7...10, DataMovement.upsample)
  }
}
