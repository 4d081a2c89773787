#!/usr/bin/env python3
"""List every floating-point tensor of a model after onnx shape inference.

Usage: PYTHON Tests/interop/float_tensors.py MODEL
Prints one JSON object: `typed_values` (how many values have a known element type),
`float_tensors` (names of graph inputs, outputs, initializers and intermediates whose element
type is a floating-point type), `float_node_outputs` (name -> op type, for those a node
produces) and `untyped` (intermediates shape inference left without a type).
"""

import json
import sys

import onnx
from onnx import TensorProto, shape_inference

FLOATS = {
    TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16,
    TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E4M3FNUZ, TensorProto.FLOAT8E5M2, TensorProto.FLOAT8E5M2FNUZ,
}


def main() -> int:
    model = shape_inference.infer_shapes(onnx.load(sys.argv[1]), strict_mode=True)
    graph = model.graph
    types = {}
    for value in list(graph.input) + list(graph.output) + list(graph.value_info):
        types[value.name] = value.type.tensor_type.elem_type
    for tensor in graph.initializer:
        types[tensor.name] = tensor.data_type
    producers = {output: node.op_type for node in graph.node for output in node.output if output}
    untyped = sorted(name for name in producers if types.get(name, 0) == 0)
    floats = sorted(name for name, elem in types.items() if elem in FLOATS)
    print(json.dumps({
        "typed_values": sum(1 for elem in types.values() if elem != 0),
        "float_tensors": floats,
        "float_node_outputs": {name: producers[name] for name in floats if name in producers},
        "untyped": untyped,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
