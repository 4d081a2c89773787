#!/usr/bin/env python3
"""Count the float compute left in integer graphs, for comparing our lowering with onnxruntime's
own QDQ fusion.

Usage: PYTHON Tests/interop/float_ops.py MODEL...
For each MODEL prints one JSON line: {"model": path, "float_ops": N, "ops": {op_type: count}},
where float_ops counts nodes other than QuantizeLinear/DequantizeLinear with a float output
(types from onnx shape inference; com.microsoft ops use their known output types).
"""

import json
import sys

import onnx
import onnx.shape_inference

INTEGER_OUTPUT_OPS = {
    "QLinearConv", "QLinearMatMul", "QGemm", "QLinearAdd", "QLinearMul", "QLinearAveragePool",
    "QLinearGlobalAveragePool", "QLinearConcat", "QLinearSoftmax", "QLinearSigmoid", "QLinearLeakyRelu",
    "QuantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "ConvInteger",
}
FLOAT = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE, onnx.TensorProto.BFLOAT16}


def main() -> int:
    for path in sys.argv[1:]:
        model = onnx.load(path)
        inferred = onnx.shape_inference.infer_shapes(model)
        types = {v.name: v.type.tensor_type.elem_type for v in list(inferred.graph.value_info) + list(model.graph.output)
                 + list(model.graph.input)}
        for tensor in model.graph.initializer:
            types[tensor.name] = tensor.data_type
        ops: dict[str, int] = {}
        float_ops = 0
        for node in model.graph.node:
            ops[node.op_type] = ops.get(node.op_type, 0) + 1
            if node.op_type in INTEGER_OUTPUT_OPS or node.op_type == "DequantizeLinear":
                continue
            kinds = [types.get(output) for output in node.output if output]
            if node.op_type in {"MaxPool", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Gather", "Slice",
                                "Concat", "Pad", "Clip", "Relu", "Resize", "Identity"} and all(k is None for k in kinds):
                # Propagate the input's type for ops whose output type shape inference could not give.
                kinds = [types.get(node.input[0])]
            if any(k in FLOAT for k in kinds):
                float_ops += 1
        print(json.dumps({"model": path, "float_ops": float_ops, "ops": dict(sorted(ops.items()))}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
