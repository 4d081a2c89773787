#!/usr/bin/env python3
"""Large generated graphs for the insert benchmark's scaling rows (Benchmarks/bench_insert.py).

Usage: PYTHON Benchmarks/scaling_graph.py NODES OUT.onnx

`chain(nodes)` repeats a five-node block on a tiny tensor float[1,4,4,4] until the graph has
`nodes` nodes (rounded down to whole blocks):

  c = Conv(x, w, b)                 1x1, 4 -> 4 channels, weights near the identity
  n = BatchNormalization(c, ...)    folded into the Conv by `fold`
  r = Relu(n)
  s = Add(x, r)
  x' = Mul(s, half)                 keeps the values bounded however long the chain

so every op kind the pipeline handles (folding, Q/DQ on compute ops, Relu absorption, residual
Add, elementwise Mul) appears once per block. Weights come from a fixed seed (ir_version 8,
opset 13).
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CHANNELS = 4
BLOCK = 5


def chain(nodes: int) -> onnx.ModelProto:
    rng = np.random.default_rng(nodes)
    blocks = max(1, nodes // BLOCK)
    graph_nodes: list[onnx.NodeProto] = []
    inits = [numpy_helper.from_array(np.array(0.5, np.float32), "half")]
    x = "input"
    for index in range(blocks):
        p = f"b{index}"
        w = (np.eye(CHANNELS) * 0.9 + 0.1 * rng.standard_normal((CHANNELS, CHANNELS))).astype(np.float32)
        arrays = {
            "w": w.reshape(CHANNELS, CHANNELS, 1, 1),
            "b": (0.05 * rng.standard_normal(CHANNELS)).astype(np.float32),
            "gamma": (1 + 0.1 * rng.standard_normal(CHANNELS)).astype(np.float32),
            "beta": (0.1 * rng.standard_normal(CHANNELS)).astype(np.float32),
            "mean": (0.1 * rng.standard_normal(CHANNELS)).astype(np.float32),
            "var": (1 + 0.1 * rng.random(CHANNELS)).astype(np.float32),
        }
        inits += [numpy_helper.from_array(a, f"{p}.{k}") for k, a in arrays.items()]
        out = "output" if index == blocks - 1 else f"{p}.out"
        graph_nodes += [
            helper.make_node("Conv", [x, f"{p}.w", f"{p}.b"], [f"{p}.conv"], name=f"{p}.conv"),
            helper.make_node("BatchNormalization",
                             [f"{p}.conv"] + [f"{p}.{k}" for k in ("gamma", "beta", "mean", "var")], [f"{p}.bn"],
                             name=f"{p}.bn"),
            helper.make_node("Relu", [f"{p}.bn"], [f"{p}.relu"], name=f"{p}.relu"),
            helper.make_node("Add", [x, f"{p}.relu"], [f"{p}.add"], name=f"{p}.add"),
            helper.make_node("Mul", [f"{p}.add", "half"], [out], name=f"{p}.mul"),
        ]
        x = out
    shape = [1, CHANNELS, 4, 4]
    graph = helper.make_graph(graph_nodes, f"chain_{nodes}",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="onnx-qat bench")
    model.ir_version = 8
    return model


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.splitlines()[2])
    model = chain(int(sys.argv[1]))
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])
    print(f"{sys.argv[2]}: {len(model.graph.node)} nodes")


if __name__ == "__main__":
    main()
