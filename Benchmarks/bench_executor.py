#!/usr/bin/env python3
"""Executor benchmark: onnx-qat's reference executor against onnxruntime, side by side in one
run, on the same inputs, 2 threads each, batch 1, warm: per model the two runtimes take turns
for --rounds rounds (default 10) of --repeat warm runs each, and the statistic (median, or min)
is taken over all of a runtime's runs; the ratio of each round is printed too. Taking turns
matters on a VM whose second processor is not always available: both runtimes then fall to
their one-thread speed for a while (states that last seconds, and come and go), and a
comparison of one runtime measured in that state with the other measured outside it says
nothing about either; ten short rounds give each runtime its turns in both states. Before each
of onnx-qat's turns the benchmark waits until onnxruntime's spinning threads are idle.

Usage: PYTHON Benchmarks/bench_executor.py --onnx-qat PATH [--repeat N] [--rounds R] [--threads T]
       [--models M ...] [--statistic median|min] [--skip-memory] [--memory-repeat N]
Models (Benchmarks/executor_models.py, cached in .build/bench/executor/): a ResNet-style CNN at
224x224, a MobileNet-style CNN with depthwise convolutions at 112x112, a transformer encoder
block (sequence 128, width 256), an LSTM, and the QLinear (integer) graphs onnxruntime's
optimizer makes of the two CNNs' quantize_static output. Prints milliseconds and the ratio
ours / onnxruntime (target: at most 2x; goal: parity).

Then the peak memory of `onnx-qat run` on the ResNet-style model (one sample, --threads T): the
peak resident set size of the process (GNU time's %M), the same for a one-node Identity model
(the process baseline: binary, Swift runtime, Foundation), and the difference compared with the
bound weights + 2 x the largest live activation set, both computed from the model (onnx shape
inference; a value is live from the node that makes it to the last node that reads it, graph
inputs from the start, graph outputs to the end; a node's inputs and outputs are live together).
The peak of one run varies by several MiB with glibc's heap (bimodal), so the median of
--memory-repeat runs (default 5) is compared with the bound and the spread printed.
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
from onnx import TensorProto, helper, numpy_helper

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


def memory_bound(path: str) -> tuple[int, int]:
    """(weight bytes, bytes of the largest live activation set) of a model."""
    model = onnx.shape_inference.infer_shapes(onnx.load(path))
    graph = model.graph
    weights = sum(numpy_helper.to_array(t).nbytes for t in graph.initializer)
    initializers = {t.name for t in graph.initializer}
    sizes = {}
    for info in list(graph.value_info) + list(graph.input) + list(graph.output):
        tensor = info.type.tensor_type
        count = int(np.prod([d.dim_value or 1 for d in tensor.shape.dim]))
        sizes[info.name] = count * np.dtype(helper.tensor_dtype_to_np_dtype(tensor.elem_type)).itemsize
    last = {}
    for index, node in enumerate(graph.node):
        for name in node.input:
            last[name] = index
    outputs = {o.name for o in graph.output}
    live = {i.name for i in graph.input if i.name not in initializers}
    peak = 0
    for index, node in enumerate(graph.node):
        made = [o for o in node.output if o]
        peak = max(peak, sum(sizes.get(v, 0) for v in live | set(made)))
        live |= set(made)
        live = {v for v in live if v in outputs or last.get(v, -1) > index}
    return weights, peak


def peak_rss(command: list[str]) -> int:
    """Peak resident set size in bytes of one run of `command`, from GNU time's %M: a child forked
    from this Python process would report this process's size (Linux keeps the larger maxrss
    across exec), time's own fork starts small."""
    result = subprocess.run(["/usr/bin/time", "-f", "maxrss %M"] + command, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {result.stderr[-300:]}")
    line = [row for row in result.stderr.splitlines() if row.startswith("maxrss ")][-1]
    return int(line.split()[1]) * 1024


def memory_report(onnx_qat: str, threads: int, repeat: int = 1) -> None:
    path = os.path.join(CACHE, "resnet_block.onnx")
    weights, activations = memory_bound(path)
    with tempfile.TemporaryDirectory() as folder:
        sample = os.path.join(folder, "sample.npz")
        np.savez(sample, **inputs_for(path))
        identity = helper.make_model(
            helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]),
            opset_imports=[helper.make_opsetid("", 17)])
        identity.ir_version = 8
        identity_path = os.path.join(folder, "identity.onnx")
        onnx.save(identity, identity_path)
        np.savez(os.path.join(folder, "x.npz"), x=np.zeros(1, np.float32))
        # glibc's heap makes the peak vary from run to run (a few MiB, bimodal): the median of
        # `repeat` runs is compared with the bound, the spread printed beside it.
        baselines = sorted(peak_rss([onnx_qat, "run", identity_path, "--input", os.path.join(folder, "x.npz")])
                           for _ in range(repeat))
        peaks = sorted(peak_rss([onnx_qat, "run", path, "--input", sample, "--threads", str(threads)])
                       for _ in range(repeat))
    baseline = baselines[len(baselines) // 2]
    peak = peaks[len(peaks) // 2]
    bound = weights + 2 * activations
    mib = 1 << 20
    spread = f" (min {peaks[0] / mib:.1f}, max {peaks[-1] / mib:.1f} over {repeat} runs)" if repeat > 1 else ""
    print(f"\npeak memory, resnet_block (onnx-qat run, one sample): {peak / mib:.1f} MiB{spread}; process baseline "
          f"(Identity model) {baseline / mib:.1f} MiB; above baseline {(peak - baseline) / mib:.1f} MiB")
    print(f"bound: weights {weights / mib:.2f} MiB + 2 x largest live activation set {activations / mib:.2f} MiB "
          f"= {bound / mib:.2f} MiB  {'PASS' if peak - baseline <= bound else 'MISS'} (above baseline vs bound)")


# How long onnxruntime's idle threads may spin after a run (measured: about 40 ms), with margin.
ORT_SPIN_SECONDS = 0.2


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--onnx-qat", required=True)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=10,
                        help="turns each runtime takes, alternating (statistics over all of them)")
    parser.add_argument("--statistic", choices=["median", "min"], default="median",
                        help="median (default) or min of the warm runs; min resists other load on the machine")
    parser.add_argument("--models", nargs="*", default=MODELS, help="a subset of the models")
    parser.add_argument("--skip-memory", action="store_true", help="leave out the peak-memory measurement")
    parser.add_argument("--memory-repeat", type=int, default=5,
                        help="runs of the peak-memory measurement (the median is compared with the bound)")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(CACHE, "resnet_block_qlinear.onnx")):
        subprocess.run([sys.executable, os.path.join(HERE, "executor_models.py"), CACHE], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    # Short names too: "resnet" for resnet_block, "encoder" for encoder_block.
    stems = [name if name in MODELS or f"{name}_block" not in MODELS else f"{name}_block" for name in args.models]
    summary = statistics.median if args.statistic == "median" else min
    for stem in stems:
        path = os.path.join(CACHE, stem + ".onnx")
        feeds = inputs_for(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        session.run(None, feeds)
        ort_times, our_times, round_ratios, failure = [], [], [], None
        with tempfile.TemporaryDirectory() as folder:
            for index in range(args.repeat + 1):
                np.savez(os.path.join(folder, f"sample{index:03d}.npz"), **feeds)
            # The two runtimes take turns, round by round, so that a change in the machine's state
            # (on a VM, a second processor that is not always there) reaches both.
            for _ in range(args.rounds):
                times = []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    session.run(None, feeds)
                    times.append((time.perf_counter() - start) * 1000)
                # onnxruntime's intra-op threads keep spinning for tens of milliseconds after a run
                # (session.intra_op.allow_spinning, on by default), each holding a processor: long
                # enough to cover a small model's whole turn on our side, which then had one
                # processor instead of two. Its threads are idle again before our turn starts.
                time.sleep(ORT_SPIN_SECONDS)
                result = subprocess.run(
                    [args.onnx_qat, "run", path, "--data", folder, "--threads", str(args.threads), "--json"],
                    capture_output=True, text=True)
                if result.returncode != 0:
                    failure = result.stderr.strip().splitlines()[-1][:120] if result.stderr else "failed"
                    break
                ours = [sample["milliseconds"] for sample in json.loads(result.stdout)["samples"]][1:]
                ort_times += times
                our_times += ours
                round_ratios.append(summary(ours) / summary(times))
        if failure is not None:
            rows.append((stem, summary(ort_times) if ort_times else float("nan"), None, failure, []))
            continue
        rows.append((stem, summary(ort_times), summary(our_times), "", round_ratios))
    print(f"{'model':28} {'onnxruntime ms':>15} {'onnx-qat ms':>12} {'ratio':>7}  target <= 2.0   ratio by round")
    for stem, ort_ms, ours_ms, note, ratios in rows:
        if ours_ms is None:
            print(f"{stem:28} {ort_ms:15.2f} {'-':>12} {'-':>7}  FAILED: {note}")
        else:
            ratio = ours_ms / ort_ms
            by_round = " ".join(f"{r:.2f}" for r in ratios)
            print(f"{stem:28} {ort_ms:15.2f} {ours_ms:12.2f} {ratio:7.2f}  {'PASS' if ratio <= 2.0 else 'MISS':13} {by_round}")
    if not args.skip_memory:
        memory_report(args.onnx_qat, args.threads, max(1, args.memory_repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
