#!/usr/bin/env python3
"""Run models in onnxruntime on seeded random inputs and save inputs and outputs in ONNX's
test-data layout, for comparing the executor with onnxruntime.

Usage: PYTHON Tests/interop/ort_reference.py OUT_DIR MODEL... [--seed N]
For MODEL number k: OUT_DIR/k/input_i.pb and OUT_DIR/k/output_i.pb, in graph order.
Inputs: float tensors standard normal, integer tensors in [0, 4), bool tensors true (so loops
and branches run), symbolic or unknown dimensions = 2. Prints `ort_reference: N passed, M failed`.
"""

import argparse
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("models", nargs="+")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_intermixed_args()
    passed = failed = 0
    for index, path in enumerate(args.models):
        rng = np.random.default_rng(args.seed + index)
        folder = os.path.join(args.out, str(index))
        os.makedirs(folder, exist_ok=True)
        try:
            model = onnx.load(path)
            initializers = {t.name for t in model.graph.initializer}
            feeds = {}
            for position, value in enumerate(i for i in model.graph.input if i.name not in initializers):
                tensor_type = value.type.tensor_type
                dims = [d.dim_value if d.HasField("dim_value") else 2 for d in tensor_type.shape.dim]
                dtype = helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
                if dtype == np.bool_:
                    array = np.ones(dims, dtype=bool)
                elif np.issubdtype(dtype, np.integer):
                    array = rng.integers(0, 4, dims).astype(dtype)
                else:
                    array = rng.standard_normal(dims).astype(dtype)
                feeds[value.name] = array
                with open(os.path.join(folder, f"input_{position}.pb"), "wb") as handle:
                    handle.write(numpy_helper.from_array(array, value.name).SerializeToString())
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
            outputs = session.run(None, feeds)
            for position, (info, array) in enumerate(zip(session.get_outputs(), outputs)):
                with open(os.path.join(folder, f"output_{position}.pb"), "wb") as handle:
                    handle.write(numpy_helper.from_array(np.asarray(array), info.name).SerializeToString())
            passed += 1
        except Exception as error:  # noqa: BLE001 - reported per model
            failed += 1
            print(f"{path}: {str(error)[:300]}")
    print(f"ort_reference: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
