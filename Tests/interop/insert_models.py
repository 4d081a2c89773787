#!/usr/bin/env python3
"""Purpose-built float models for the insert interop tests, built with the onnx helper
(deterministic weights, ir_version 8).

Usage: PYTHON Tests/interop/insert_models.py OUT_DIR
Writes:
  convtranspose_bn.onnx   opset 13: Conv+BN+Relu, ConvTranspose(group 2)+BN+Relu, Flatten,
                          Gemm(transB=1)+BN, Gemm(transB=0): every BatchNormalization foldable.
  opset11_unsqueeze_softmax.onnx
                          opset 11: MatMul, Unsqueeze(axes attribute), Softmax(axis=2) on a rank-4
                          tensor (the pre-13 "coerce to 2-D" semantics), Squeeze(axes attribute).
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def init(rng, name, shape, scale=0.3):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def bn_params(rng, prefix, channels):
    return [
        numpy_helper.from_array((1 + 0.2 * rng.standard_normal(channels)).astype(np.float32), prefix + "_scale"),
        numpy_helper.from_array((0.1 * rng.standard_normal(channels)).astype(np.float32), prefix + "_bias"),
        numpy_helper.from_array((0.1 * rng.standard_normal(channels)).astype(np.float32), prefix + "_mean"),
        numpy_helper.from_array((0.5 + rng.random(channels)).astype(np.float32), prefix + "_var"),
    ]


def bn(prefix, x, y):
    return helper.make_node(
        "BatchNormalization", [x, prefix + "_scale", prefix + "_bias", prefix + "_mean", prefix + "_var"], [y],
        name=prefix)


def convtranspose_bn():
    rng = np.random.default_rng(11)
    inits = [init(rng, "w1", [8, 3, 3, 3]), init(rng, "b1", [8], 0.1), init(rng, "wt", [8, 4, 2, 2]),
             init(rng, "g1", [16, 2048], 0.05), init(rng, "g2", [16, 10]), init(rng, "g2b", [10], 0.1)]
    inits += bn_params(rng, "bn1", 8) + bn_params(rng, "bn2", 8) + bn_params(rng, "bn3", 16)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1], strides=[2, 2]),
        bn("bn1", "c1", "n1"),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("ConvTranspose", ["r1", "wt"], ["t1"], name="deconv", strides=[2, 2], group=2),
        bn("bn2", "t1", "n2"),
        helper.make_node("Relu", ["n2"], ["r2"], name="relu2"),
        helper.make_node("Flatten", ["r2"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "g1"], ["h"], name="fc1", transB=1),
        bn("bn3", "h", "n3"),
        helper.make_node("Gemm", ["n3", "g2", "g2b"], ["y"], name="fc2"),
    ]
    graph = helper.make_graph(
        nodes, "convtranspose_bn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def opset11_unsqueeze_softmax():
    rng = np.random.default_rng(12)
    inits = [init(rng, "w", [8, 8])]
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"], name="proj"),
        helper.make_node("Unsqueeze", ["m"], ["u"], name="unsqueeze", axes=[1]),
        helper.make_node("Softmax", ["u"], ["s"], name="softmax", axis=2),
        helper.make_node("Squeeze", ["s"], ["y"], name="squeeze", axes=[1]),
    ]
    graph = helper.make_graph(
        nodes, "opset11_unsqueeze_softmax", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], ir_version=7)


def main() -> int:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, model in [("convtranspose_bn", convtranspose_bn()), ("opset11_unsqueeze_softmax", opset11_unsqueeze_softmax())]:
        onnx.checker.check_model(model, full_check=True)
        onnx.save(model, os.path.join(out, name + ".onnx"))
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
