#!/usr/bin/env python3
"""onnxruntime's static quantization of a model, as the peer that onnx-qat insert is measured against.

Usage: ort_quantize_static.py MODEL CALIB_DIR OUT_DIR [--test NPZ] [--input-key x]

Runs onnxruntime's `quant_pre_process` (shape inference and its graph optimizer, which folds
BatchNormalization into Conv) and then `quantize_static` with QuantFormat.QDQ, per_channel=True,
CalibrationMethod.MinMax, uint8 activations, int8 weights and otherwise onnxruntime's defaults.
The calibration samples are CALIB_DIR/*.npz (sorted by name, keys = graph input names), fed one
file per step through a CalibrationDataReader, so both tools see the same samples in the same
order. Writes OUT_DIR/ort_qdq.onnx and OUT_DIR/ort_prepared.onnx (the model after
quant_pre_process, i.e. the float graph onnxruntime actually quantizes).

With --test NPZ (an archive whose member `x` is one batch for the model's single input; `y`
optional labels), also runs the float model and onnxruntime's fake-quant model in onnxruntime
with graph optimizations disabled (so the Q/DQ pairs run as written, not fused into QLinear
kernels) and writes OUT_DIR/float_outputs.npy and OUT_DIR/ort_qdq_outputs.npy (the first graph
output of each). Prints one JSON line: the paths, and the accuracies when labels are given.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process


class FolderReader(CalibrationDataReader):
    """One calibration sample per .npz file in a folder, in name order."""

    def __init__(self, folder: str):
        self.paths = sorted(glob.glob(os.path.join(folder, "*.npz")))
        if not self.paths:
            raise SystemExit(f"{folder}: no .npz calibration samples")
        self.position = 0

    def get_next(self):
        if self.position >= len(self.paths):
            return None
        with np.load(self.paths[self.position]) as archive:
            sample = {key: archive[key] for key in archive.files}
        self.position += 1
        return sample

    def rewind(self):
        self.position = 0


def quantize(model: str, calib: str, out: str) -> str:
    prepared = os.path.join(out, "ort_prepared.onnx")
    quant_pre_process(model, prepared, skip_symbolic_shape=True)
    qdq = os.path.join(out, "ort_qdq.onnx")
    quantize_static(prepared, qdq, FolderReader(calib), quant_format=QuantFormat.QDQ, per_channel=True,
                    calibrate_method=CalibrationMethod.MinMax, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8)
    return qdq


def run(model: str, batch: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: batch})[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("calib")
    parser.add_argument("out")
    parser.add_argument("--test", help="an .npz with the test batch (and optional labels)")
    parser.add_argument("--input-key", default="x")
    parser.add_argument("--label-key", default="y")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    qdq = quantize(args.model, args.calib, args.out)
    result: dict[str, object] = {"ort_qdq": qdq, "ort_prepared": os.path.join(args.out, "ort_prepared.onnx")}
    if args.test:
        with np.load(args.test) as archive:
            batch = archive[args.input_key]
            labels = archive[args.label_key] if args.label_key in archive.files else None
        for key, path in (("float", args.model), ("ort_qdq", qdq)):
            outputs = run(path, batch)
            np.save(os.path.join(args.out, f"{key}_outputs.npy"), outputs)
            result[f"{key}_outputs"] = os.path.join(args.out, f"{key}_outputs.npy")
            if labels is not None:
                result[f"{key}_accuracy"] = float((outputs.argmax(axis=1) == labels).mean())
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
