#!/usr/bin/env python3
"""Fake-quant models in the export patterns of PyTorch QAT (fbgemm), NNCF and NVIDIA modelopt,
built with the onnx helper, for testing `lower` on graphs other tools write.

Usage: PYTHON Tests/interop/producer_qdq_models.py OUT_DIR
Writes OUT_DIR/modelopt_int8.onnx and OUT_DIR/pytorch_uint8.onnx (IR 8, opset 13):
- weights are float initializers behind QuantizeLinear -> DequantizeLinear, int8 symmetric per
  output channel (axis 0 for Conv and Gemm with transB, axis 1 for MatMul), range [-127, 127]
  (beside uint8 activations [-63, 63], so that onnxruntime's AVX2 u8 x s8 kernels are exact);
- activations go through QuantizeLinear -> DequantizeLinear pairs: int8 symmetric (zero point 0)
  in the modelopt/NNCF form, uint8 asymmetric in the PyTorch fbgemm form;
- biases: float (modelopt) or int32 behind DequantizeLinear at scale s_x * s_w (PyTorch);
- layers: Conv+Relu, MaxPool, Conv 1x1, a residual Add, Flatten, then Gemm (modelopt) or
  MatMul + Add (PyTorch).
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, signed: bool, seed: int):
        self.signed = signed
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []
        self.count = 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, array, base):
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op, inputs, base, **attrs):
        out = self.name(base)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out + "_node", **attrs))
        return out

    def qdq(self, x, scale, zero=None, relu=False):
        """An activation Q->DQ pair: int8 zero point 0, or uint8 (128, or 0 after a Relu)."""
        if self.signed:
            zp = np.array(0, np.int8)
        else:
            zp = np.array(0 if relu else 128 if zero is None else zero, np.uint8)
        s = self.const(np.array(scale, np.float32), "scale")
        z = self.const(zp, "zero_point")
        q = self.node("QuantizeLinear", [x, s, z], "q")
        return self.node("DequantizeLinear", [q, s, z], "dq"), scale

    def weight(self, shape, axis):
        w = (self.rng.standard_normal(shape) * 0.3).astype(np.float32)
        reduce = tuple(i for i in range(len(shape)) if i != axis)
        # 7-bit weights beside uint8 activations (fbgemm's reduce_range idea): onnxruntime's AVX2
        # u8 x s8 kernels without VNNI saturate int16 pair sums with full-range weights.
        scales = (np.abs(w).max(axis=reduce) / (127 if self.signed else 63)).astype(np.float32)
        s = self.const(scales, "w_scale")
        z = self.const(np.zeros(len(scales), np.int8), "w_zero_point")
        wi = self.const(w, "w")
        q = self.node("QuantizeLinear", [wi, s, z], "wq", axis=axis)
        return self.node("DequantizeLinear", [q, s, z], "wdq", axis=axis), scales

    def bias(self, count, x_scale, w_scales, int32):
        b = (self.rng.standard_normal(count) * 0.1).astype(np.float32)
        if not int32:
            return self.const(b, "b")
        scale = (np.float32(x_scale) * w_scales).astype(np.float32)
        q = np.round(b / scale).astype(np.int32)
        bi = self.const(q, "b_int32")
        s = self.const(scale, "b_scale")
        z = self.const(np.zeros(count, np.int32), "b_zero_point")
        return self.node("DequantizeLinear", [bi, s, z], "bdq", axis=0)


def build(signed: bool, int32_bias: bool, name: str) -> onnx.ModelProto:
    b = Builder(signed, seed=7 if signed else 11)
    x, sx = b.qdq("input", 0.03)
    w, sw = b.weight((8, 3, 3, 3), 0)
    c = b.node("Conv", [x, w, b.bias(8, sx, sw, int32_bias)], "conv", pads=[1, 1, 1, 1])
    r = b.node("Relu", [c], "relu")
    r, sr = b.qdq(r, 0.02, relu=True)
    p = b.node("MaxPool", [r], "pool", kernel_shape=[2, 2], strides=[2, 2])
    p, sp = b.qdq(p, sr, relu=True)
    w2, sw2 = b.weight((8, 8, 1, 1), 0)
    c2 = b.node("Conv", [p, w2, b.bias(8, sp, sw2, int32_bias)], "conv")
    c2, _ = b.qdq(c2, 0.025)
    a = b.node("Add", [c2, p], "residual")
    a, sa = b.qdq(a, 0.03)
    f = b.node("Flatten", [a], "flatten")
    f, sf = b.qdq(f, sa)
    if signed:
        wg, swg = b.weight((10, 128), 0)
        y = b.node("Gemm", [f, wg, b.bias(10, sf, swg, int32_bias)], "fc", transB=1)
    else:
        wm, swm = b.weight((128, 10), 1)
        m = b.node("MatMul", [f, wm], "fc")
        m, sm = b.qdq(m, 0.05)
        bias = b.const((b.rng.standard_normal(10) * 0.1).astype(np.float32), "fc_bias")
        y = b.node("Add", [m, b.qdq(bias, 0.002)[0]], "fc_add")
    y, _ = b.qdq(y, 0.05)
    graph = helper.make_graph(
        b.nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, 10])], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


def main() -> int:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    onnx.save(build(True, False, "modelopt_int8"), os.path.join(out, "modelopt_int8.onnx"))
    onnx.save(build(False, True, "pytorch_uint8"), os.path.join(out, "pytorch_uint8.onnx"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
