#!/usr/bin/env python3
"""Export ONNX's backend node test cases (onnx.backend.test.case.node.collect_testcases) to a
folder, one sub-folder per case in ONNX's own layout, for the executor's conformance test.

Usage: PYTHON Tests/conformance/export_node_tests.py OUT_DIR

OUT_DIR/<case>/model.onnx, OUT_DIR/<case>/test_data_set_N/{input,output}_K.pb, and
OUT_DIR/index.json: [{"name", "rtol", "atol", "ops": ["domain::Op", ...], "opset": {...},
"inputs": [names], "outputs": [names], "sets": N}], sorted by name. Values that are not
tensors (sequences, optionals, maps) make a case "unexported" with the reason, since the
executor's test data is tensors only. Re-running over an existing OUT_DIR with the same onnx
version is a no-op (OUT_DIR/onnx_version).
"""

from __future__ import annotations

import json
import os
import sys
import warnings

import numpy as np
import onnx
from onnx import numpy_helper

warnings.filterwarnings("ignore")


def ops_of(graph: onnx.GraphProto, found: set[str]) -> None:
    for node in graph.node:
        found.add(f"{node.domain if node.domain != 'ai.onnx' else ''}::{node.op_type}")
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                ops_of(attribute.g, found)
            for sub in attribute.graphs:
                ops_of(sub, found)


def main() -> int:
    out = sys.argv[1]
    stamp = os.path.join(out, "onnx_version")
    if os.path.exists(stamp) and open(stamp).read() == onnx.__version__:
        return 0
    from onnx.backend.test.case.node import collect_testcases

    os.makedirs(out, exist_ok=True)
    index = []
    for case in sorted(collect_testcases(None), key=lambda c: c.name):
        entry = {"name": case.name, "rtol": case.rtol, "atol": case.atol}
        model = case.model
        found: set[str] = set()
        ops_of(model.graph, found)
        for function in model.functions:
            ops_of(function.graph if hasattr(function, "graph") else onnx.GraphProto(node=function.node), found)
        entry["ops"] = sorted(found)
        entry["opset"] = {o.domain: o.version for o in model.opset_import}
        entry["inputs"] = [i.name for i in model.graph.input]
        entry["outputs"] = [o.name for o in model.graph.output]
        folder = os.path.join(out, case.name)
        os.makedirs(folder, exist_ok=True)
        onnx.save(model, os.path.join(folder, "model.onnx"))
        try:
            for number, (inputs, outputs) in enumerate(case.data_sets):
                data = os.path.join(folder, f"test_data_set_{number}")
                os.makedirs(data, exist_ok=True)
                for kind, values, infos in (("input", inputs, model.graph.input), ("output", outputs, model.graph.output)):
                    for position, value in enumerate(values):
                        if isinstance(value, onnx.TensorProto):
                            tensor = onnx.TensorProto()
                            tensor.CopyFrom(value)
                            tensor.name = infos[position].name
                            with open(os.path.join(data, f"{kind}_{position}.pb"), "wb") as handle:
                                handle.write(tensor.SerializeToString())
                            continue
                        if not isinstance(value, np.ndarray) and not np.isscalar(value):
                            raise TypeError(f"{kind} {position} is a {type(value).__name__}, not a tensor")
                        tensor = numpy_helper.from_array(np.asarray(value), infos[position].name)
                        declared = infos[position].type.tensor_type.elem_type
                        if declared and declared != tensor.data_type:
                            tensor = numpy_helper.from_array(
                                np.asarray(value).astype(onnx.helper.tensor_dtype_to_np_dtype(declared)), infos[position].name)
                        with open(os.path.join(data, f"{kind}_{position}.pb"), "wb") as handle:
                            handle.write(tensor.SerializeToString())
            entry["sets"] = len(case.data_sets)
        except Exception as error:  # noqa: BLE001 - recorded in the index
            entry["unexported"] = str(error)[:200]
        index.append(entry)
    with open(os.path.join(out, "index.json"), "w") as handle:
        json.dump(index, handle, indent=1)
    with open(stamp, "w") as handle:
        handle.write(onnx.__version__)
    print(f"exported {len(index)} node test cases to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
