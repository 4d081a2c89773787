#!/usr/bin/env python3
"""Models for the executor benchmark and the executor-vs-onnxruntime interop test, built with
the onnx helper (deterministic weights, ir_version 8, opset 17).

Usage: PYTHON Benchmarks/executor_models.py OUT_DIR [--small]
Writes resnet_block.onnx (a ResNet-style CNN: stem conv, BatchNorm, two residual basic blocks,
pooling, classifier), mobilenet_block.onnx (depthwise-separable blocks with Clip(0,6)),
encoder_block.onnx (a transformer encoder layer: multi-head self-attention through
MatMul/Reshape/Transpose/Softmax, LayerNormalization, GELU-free MLP with Relu), lstm.onnx
(a one-layer LSTM over a sequence), and for the CNNs an onnxruntime quantize_static QDQ version
(*_qdq.onnx) and the QLinear graph onnxruntime's optimizer makes of it (*_qlinear.onnx).
--small makes the interop-test sizes (32x32 images); the default is the benchmark size
(224x224 ResNet stem, 112x112 MobileNet input, sequence 128 x 256 for the encoder).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, array: np.ndarray, base: str) -> str:
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], **attrs) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, group: int = 1) -> str:
        fan_in = cin // group * k * k
        w = (self.rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = (self.rng.standard_normal(cout) * 0.01).astype(np.float32)
        return self.node("Conv", [x, self.const(w, "w"), self.const(b, "b")], kernel_shape=[k, k],
                         strides=[stride, stride], pads=[k // 2] * 4, group=group)

    def bn(self, x: str, c: int) -> str:
        scale = (1 + 0.1 * self.rng.standard_normal(c)).astype(np.float32)
        bias = (0.1 * self.rng.standard_normal(c)).astype(np.float32)
        mean = (0.1 * self.rng.standard_normal(c)).astype(np.float32)
        var = (1 + 0.1 * self.rng.random(c)).astype(np.float32)
        return self.node("BatchNormalization", [x] + [self.const(a, n) for a, n in
                         ((scale, "gamma"), (bias, "beta"), (mean, "mean"), (var, "var"))])

    def linear(self, x: str, cin: int, cout: int) -> str:
        w = (self.rng.standard_normal((cin, cout)) / np.sqrt(cin)).astype(np.float32)
        b = (0.01 * self.rng.standard_normal(cout)).astype(np.float32)
        return self.node("Add", [self.node("MatMul", [x, self.const(w, "w")]), self.const(b, "b")])

    def model(self, name: str, inputs, outputs) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="onnx-qat bench")
        model.ir_version = 8
        onnx.checker.check_model(model, full_check=True)
        return model


def resnet(size: int) -> onnx.ModelProto:
    b = Builder(1)
    x = b.node("Relu", [b.bn(b.conv("image", 3, 64, 7, 2), 64)])
    x = b.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    for _ in range(2):
        y = b.node("Relu", [b.bn(b.conv(x, 64, 64, 3), 64)])
        y = b.bn(b.conv(y, 64, 64, 3), 64)
        x = b.node("Relu", [b.node("Add", [x, y])])
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    w = (b.rng.standard_normal((64, 10)) / 8).astype(np.float32)
    out = b.node("Gemm", [x, b.const(w, "fc"), b.const(np.zeros(10, np.float32), "fcb")])
    b.nodes[-1].output[0] = "logits"
    return b.model("resnet_block", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
                   [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])])


def mobilenet(size: int) -> onnx.ModelProto:
    b = Builder(2)
    lo, hi = b.const(np.float32(0), "lo"), b.const(np.float32(6), "hi")
    x = b.node("Clip", [b.bn(b.conv("image", 3, 32, 3, 2), 32), lo, hi])
    channels = 32
    for cout, stride in ((64, 1), (128, 2), (128, 1), (256, 2)):
        x = b.node("Clip", [b.bn(b.conv(x, channels, channels, 3, stride, group=channels), channels), lo, hi])
        x = b.node("Clip", [b.bn(b.conv(x, channels, cout, 1), cout), lo, hi])
        channels = cout
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    w = (b.rng.standard_normal((channels, 10)) / 16).astype(np.float32)
    b.node("Gemm", [x, b.const(w, "fc"), b.const(np.zeros(10, np.float32), "fcb")])
    b.nodes[-1].output[0] = "logits"
    return b.model("mobilenet_block", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
                   [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])])


def encoder(seq: int, dim: int, heads: int = 4) -> onnx.ModelProto:
    b = Builder(3)
    head = dim // heads

    def split_heads(t: str) -> str:
        r = b.node("Reshape", [t, b.const(np.array([1, seq, heads, head], np.int64), "shape")])
        return b.node("Transpose", [r], perm=[0, 2, 1, 3])

    def layer_norm(t: str) -> str:
        return b.node("LayerNormalization", [t, b.const(np.ones(dim, np.float32), "ln_g"),
                                             b.const(np.zeros(dim, np.float32), "ln_b")], axis=-1)

    x = "tokens"
    q, k, v = (split_heads(b.linear(x, dim, dim)) for _ in range(3))
    scores = b.node("MatMul", [q, b.node("Transpose", [k], perm=[0, 1, 3, 2])])
    scores = b.node("Mul", [scores, b.const(np.float32(1 / np.sqrt(head)), "scale")])
    attention = b.node("MatMul", [b.node("Softmax", [scores], axis=-1), v])
    merged = b.node("Reshape", [b.node("Transpose", [attention], perm=[0, 2, 1, 3]),
                                b.const(np.array([1, seq, dim], np.int64), "shape")])
    x = layer_norm(b.node("Add", [x, b.linear(merged, dim, dim)]))
    mlp = b.linear(b.node("Relu", [b.linear(x, dim, 4 * dim)]), 4 * dim, dim)
    layer_norm(b.node("Add", [x, mlp]))
    b.nodes[-1].output[0] = "encoded"
    return b.model("encoder_block", [helper.make_tensor_value_info("tokens", TensorProto.FLOAT, [1, seq, dim])],
                   [helper.make_tensor_value_info("encoded", TensorProto.FLOAT, [1, seq, dim])])


def lstm(seq: int, features: int, hidden: int) -> onnx.ModelProto:
    b = Builder(4)
    w = (b.rng.standard_normal((1, 4 * hidden, features)) / np.sqrt(features)).astype(np.float32)
    r = (b.rng.standard_normal((1, 4 * hidden, hidden)) / np.sqrt(hidden)).astype(np.float32)
    bias = (0.1 * b.rng.standard_normal((1, 8 * hidden))).astype(np.float32)
    b.nodes.append(helper.make_node("LSTM", ["sequence", b.const(w, "W"), b.const(r, "R"), b.const(bias, "B")],
                                    ["all_hidden", "last_hidden"], hidden_size=hidden, name="lstm"))
    return b.model("lstm", [helper.make_tensor_value_info("sequence", TensorProto.FLOAT, [seq, 1, features])],
                   [helper.make_tensor_value_info("all_hidden", TensorProto.FLOAT, [seq, 1, 1, hidden]),
                    helper.make_tensor_value_info("last_hidden", TensorProto.FLOAT, [1, 1, hidden])])


def quantized(model_path: str, out_dir: str, stem: str) -> None:
    """onnxruntime's quantize_static (QDQ, per-channel, MinMax) and its optimizer's QLinear graph."""
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    model = onnx.load(model_path)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    name = model.graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(5)
            self.samples = iter([{name: rng.standard_normal(shape).astype(np.float32)} for _ in range(8)])

        def get_next(self):
            return next(self.samples, None)

    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = os.path.join(out_dir, f"{stem}_prepared.onnx")
    quant_pre_process(model_path, prepared, skip_symbolic_shape=True)  # folds BatchNormalization
    qdq = os.path.join(out_dir, f"{stem}_qdq.onnx")
    quantize_static(prepared, qdq, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    # 7-bit weights: onnxruntime's AVX2 u8s8 GEMM (vpmaddubsw) saturates pair sums in
                    # int16 with full-range int8 weights, which departs from exact int32 arithmetic.
                    extra_options={"WeightSymmetric": True}, reduce_range=True)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = os.path.join(out_dir, f"{stem}_qlinear.onnx")
    ort.InferenceSession(qdq, options, providers=["CPUExecutionProvider"])
    os.remove(prepared)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    models = {
        "resnet_block": resnet(32 if args.small else 224),
        "mobilenet_block": mobilenet(32 if args.small else 112),
        "encoder_block": encoder(16 if args.small else 128, 64 if args.small else 256),
        "lstm": lstm(8 if args.small else 64, 16 if args.small else 64, 32 if args.small else 128),
    }
    for stem, model in models.items():
        path = os.path.join(args.out, f"{stem}.onnx")
        onnx.save(model, path)
        if stem in ("resnet_block", "mobilenet_block"):
            quantized(path, args.out, stem)
    print("\n".join(sorted(os.listdir(args.out))))


if __name__ == "__main__":
    main()
