#!/usr/bin/env python3
"""Executor benchmark: onnx-qat's reference executor against onnxruntime, side by side in one
run, on the same inputs, 2 threads each, batch 1, warm (median of --repeat runs after one
warm-up run).

Usage: PYTHON Benchmarks/bench_executor.py --onnx-qat PATH [--repeat N] [--threads T]
Models (Benchmarks/executor_models.py, cached in .build/bench/executor/): a ResNet-style CNN at
224x224, a MobileNet-style CNN with depthwise convolutions at 112x112, a transformer encoder
block (sequence 128, width 256), an LSTM, and the QLinear (integer) graphs onnxruntime's
optimizer makes of the two CNNs' quantize_static output. Prints milliseconds and the ratio
ours / onnxruntime (target: at most 2x; goal: parity).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(ROOT, ".build", "bench", "executor")
MODELS = ["resnet_block", "mobilenet_block", "encoder_block", "lstm", "resnet_block_qlinear", "mobilenet_block_qlinear"]


def inputs_for(path: str) -> dict[str, np.ndarray]:
    model = onnx.load(path)
    initializers = {t.name for t in model.graph.initializer}
    rng = np.random.default_rng(0)
    feeds = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        shape = [d.dim_value or 1 for d in value.type.tensor_type.shape.dim]
        feeds[value.name] = rng.standard_normal(shape).astype(helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type))
    return feeds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--onnx-qat", required=True)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not os.path.exists(os.path.join(CACHE, "resnet_block_qlinear.onnx")):
        subprocess.run([sys.executable, os.path.join(HERE, "executor_models.py"), CACHE], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    for stem in MODELS:
        path = os.path.join(CACHE, stem + ".onnx")
        feeds = inputs_for(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        session.run(None, feeds)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            session.run(None, feeds)
            times.append((time.perf_counter() - start) * 1000)
        ort_ms = statistics.median(times)
        with tempfile.TemporaryDirectory() as folder:
            for index in range(args.repeat + 1):
                np.savez(os.path.join(folder, f"sample{index:03d}.npz"), **feeds)
            result = subprocess.run(
                [args.onnx_qat, "run", path, "--data", folder, "--threads", str(args.threads), "--json"],
                capture_output=True, text=True)
        if result.returncode != 0:
            rows.append((stem, ort_ms, None, result.stderr.strip().splitlines()[-1][:120] if result.stderr else "failed"))
            continue
        report = json.loads(result.stdout)
        ours = [sample["milliseconds"] for sample in report["samples"]][1:]
        rows.append((stem, ort_ms, statistics.median(ours), ""))
    print(f"{'model':28} {'onnxruntime ms':>15} {'onnx-qat ms':>12} {'ratio':>7}  target <= 2.0")
    for stem, ort_ms, ours_ms, note in rows:
        if ours_ms is None:
            print(f"{stem:28} {ort_ms:15.2f} {'-':>12} {'-':>7}  FAILED: {note}")
        else:
            ratio = ours_ms / ort_ms
            print(f"{stem:28} {ort_ms:15.2f} {ours_ms:12.2f} {ratio:7.2f}  {'PASS' if ratio <= 2.0 else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
