#!/usr/bin/env python3
"""Expose every QuantizeLinear output (and its float input) of a fake-quant model as graph
outputs and run it in onnxruntime, so that a test can check our QuantizeLinear bit for bit on
onnxruntime's own inputs and compare both executors' integer and float values.

Usage: PYTHON Tests/interop/qdq_crosscheck.py OUT_DIR MODEL [--seed N] [--samples FILE.npz]

Writes OUT_DIR/exposed.onnx (checked with onnx.checker full_check), OUT_DIR/input_i.pb and
OUT_DIR/output_i.pb in the exposed model's graph order. Inputs: standard normal floats (or the
arrays of --samples), symbolic or unknown dimensions = 1. Prints the number of exposed tensors.
"""

import argparse
import os
import sys

import numpy as np
import onnx
import onnx.shape_inference
import onnxruntime as ort
from onnx import numpy_helper


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples")
    args = parser.parse_args()
    model = onnx.load(args.model)
    inferred = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
    initializers = {t.name: t for t in model.graph.initializer}
    existing = {o.name for o in model.graph.output}
    exposed = 0
    skipped = 0
    graph_inputs = {i.name for i in model.graph.input}
    for node in model.graph.node:
        if node.op_type != "QuantizeLinear" or node.output[0] in existing:
            continue
        info = inferred.get(node.output[0])
        if info is None or not info.type.tensor_type.HasField("shape") or not info.type.tensor_type.elem_type:
            skipped += 1  # shape inference gave no rank: a graph output needs one
            continue
        model.graph.output.append(info)
        existing.add(node.output[0])
        source = node.input[0]
        if source not in existing and source not in graph_inputs and source not in initializers and source in inferred:
            model.graph.output.append(inferred[source])
            existing.add(source)
        exposed += 1
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "exposed.onnx")
    onnx.save(model, path)
    onnx.checker.check_model(path, full_check=True)
    rng = np.random.default_rng(args.seed)
    given = dict(np.load(args.samples)) if args.samples else {}
    feeds = {}
    init_names = set(initializers)
    for index, value in enumerate(i for i in model.graph.input if i.name not in init_names):
        dims = [d.dim_value if d.HasField("dim_value") else 1 for d in value.type.tensor_type.shape.dim]
        array = given.get(value.name)
        if array is None:
            array = rng.standard_normal(dims).astype(np.float32)
        feeds[value.name] = array
        onnx.save_tensor(numpy_helper.from_array(array, value.name), os.path.join(args.out, f"input_{index}.pb"))
    # Graph optimizations off: onnxruntime would otherwise fuse DQ -> op -> Q into integer kernels
    # (QLinearConv, ...), which is `lower`'s business; here the fake-quant graph runs as written.
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    results = session.run(None, feeds)
    for index, (value, array) in enumerate(zip(model.graph.output, results)):
        onnx.save_tensor(numpy_helper.from_array(np.asarray(array), value.name), os.path.join(args.out, f"output_{index}.pb"))
    print(f"qdq_crosscheck: exposed {exposed} quantized tensors ({skipped} without an inferred shape), "
          f"{len(results)} outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
