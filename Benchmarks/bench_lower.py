#!/usr/bin/env python3
"""Lower benchmark: `onnx-qat lower` against onnxruntime's own QDQ fusion, side by side in one run.

Usage: PYTHON Benchmarks/bench_lower.py --onnx-qat PATH [--repeat N] [--threads T] [--skip-scaling]
       [--timeout S]

1. Lowering time, best of --repeat (default 5) wall times, on the same QDQ models:
   ours:        `onnx-qat lower MODEL -o OUT` (a child process: load, fold, lower, save), for
                `--target ort` and for `--target onnx --requant fixed-point`
   onnxruntime: creating an InferenceSession with ORT_ENABLE_EXTENDED and
                optimized_model_filepath (its QDQ fusion, writing the fused model), in this process
   models: onnxruntime's quantize_static output (QDQ, per-channel, reduce_range) of the ResNet- and
   MobileNet-style CNNs of Benchmarks/executor_models.py, and our `insert` output of the digits
   CNN (Fixtures/digits, calibrated on its 32 images, --reduce-range).
2. Run time in onnxruntime (--threads, default 2, batch 1, warm, median of --repeat * 4 runs)
   of our lowered graphs (ort target; onnx target with fixed-point requantization) against
   onnxruntime's own fused graph, and our executor (`onnx-qat run --json`, median) on our
   ort-target graph.
3. The op histograms side by side (ours ort, ours onnx fixed-point, onnxruntime's fused graph)
   and the float compute left in each (Tests/interop/float_ops.py's count).
4. Scaling: QDQ chains (Benchmarks/scaling_graph.py's chain, quantized by our `insert --calib
   synthetic:2`) of 1k, 10k and 100k nodes, timing `lower`; prints the growth per 10x nodes
   (10x is linear). A run over --timeout seconds (default 300) is killed and larger sizes skipped.
Models are cached in .build/bench/lower/. The machine may be shared: ratios are indicative.
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(ROOT, ".build", "bench", "lower")
DIGITS = os.path.join(ROOT, "Fixtures", "digits")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "Tests", "interop"))

import scaling_graph  # noqa: E402
from bench_executor import inputs_for as feeds_for  # noqa: E402


def wall(command: list[str], timeout: float | None = None) -> float:
    """Wall seconds of one child process; raises when it fails or times out."""
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip()[-500:]}")
    return elapsed


def best(function, repeat: int) -> float:
    return min(function() for _ in range(repeat))


def ort_fusion_seconds(qdq: str, out: str) -> float:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = out
    start = time.perf_counter()
    ort.InferenceSession(qdq, options, providers=["CPUExecutionProvider"])
    return time.perf_counter() - start


def ort_run_ms(path: str, feeds, threads: int, runs: int) -> float:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    session.run(None, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def executor_run_ms(binary: str, path: str, feeds, threads: int, runs: int) -> float | None:
    with tempfile.TemporaryDirectory() as folder:
        for index in range(runs + 1):
            np.savez(os.path.join(folder, f"sample{index:03d}.npz"), **feeds)
        result = subprocess.run([binary, "run", path, "--data", folder, "--threads", str(threads), "--json"],
                                capture_output=True, text=True)
    if result.returncode != 0:
        return None
    report = json.loads(result.stdout)
    return statistics.median(sample["milliseconds"] for sample in report["samples"][1:])


def float_ops(paths: list[str]) -> list[dict]:
    result = subprocess.run([sys.executable, os.path.join(ROOT, "Tests", "interop", "float_ops.py")] + paths,
                            capture_output=True, text=True, check=True)
    return [json.loads(line) for line in result.stdout.splitlines()]


def prepare(binary: str) -> list[tuple[str, str]]:
    os.makedirs(CACHE, exist_ok=True)
    if not os.path.exists(os.path.join(CACHE, "resnet_block_qdq.onnx")):
        subprocess.run([sys.executable, os.path.join(HERE, "executor_models.py"), CACHE], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    digits = os.path.join(CACHE, "digits_qdq.onnx")
    if not os.path.exists(digits):
        subprocess.run([binary, "insert", os.path.join(DIGITS, "digits_cnn.onnx"), "-o", digits, "--calib",
                        os.path.join(DIGITS, "calib"), "--reduce-range"], check=True, stdout=subprocess.DEVNULL)
    return [(stem, os.path.join(CACHE, f"{stem}_qdq.onnx")) for stem in ("resnet_block", "mobilenet_block", "digits")]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--onnx-qat", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    binary = args.onnx_qat
    models = prepare(binary)

    print("1. lowering time (best of %d, ms): onnx-qat lower vs onnxruntime session with its QDQ fusion" % args.repeat)
    print(f"{'model':18} {'lower ort':>10} {'lower onnx-fp':>14} {'onnxruntime':>12} {'ratio ort/ours':>15}")
    runs = {}
    for stem, qdq in models:
        ours = os.path.join(CACHE, f"{stem}_ours_ort.onnx")
        fixed = os.path.join(CACHE, f"{stem}_ours_onnx_fp.onnx")
        fused = os.path.join(CACHE, f"{stem}_ort_fused.onnx")
        t_ours = best(lambda: wall([binary, "lower", qdq, "-o", ours]), args.repeat)
        t_fixed = best(lambda: wall([binary, "lower", qdq, "-o", fixed, "--target", "onnx", "--requant", "fixed-point"]),
                       args.repeat)
        t_ort = best(lambda: ort_fusion_seconds(qdq, fused), args.repeat)
        runs[stem] = (qdq, ours, fixed, fused)
        print(f"{stem:18} {t_ours * 1000:10.1f} {t_fixed * 1000:14.1f} {t_ort * 1000:12.1f} {t_ort / t_ours:15.2f}")

    print("\n2. run time (median, ms, %d threads, batch 1, warm)" % args.threads)
    print(f"{'model':18} {'ort: ours':>10} {'ort: ours onnx-fp':>18} {'ort: its fusion':>16} {'executor: ours':>15}")
    for stem, (qdq, ours, fixed, fused) in runs.items():
        feeds = feeds_for(qdq)
        runs_count = args.repeat * 4
        a = ort_run_ms(ours, feeds, args.threads, runs_count)
        b = ort_run_ms(fixed, feeds, args.threads, runs_count)
        c = ort_run_ms(fused, feeds, args.threads, runs_count)
        d = executor_run_ms(binary, ours, feeds, args.threads, args.repeat)
        print(f"{stem:18} {a:10.3f} {b:18.3f} {c:16.3f} {'-' if d is None else f'{d:.3f}':>15}")

    print("\n3. op histograms and float compute left")
    for stem, (qdq, ours, fixed, fused) in runs.items():
        counts = float_ops([ours, fixed, fused])
        ops = sorted(set().union(*(c["ops"] for c in counts)))
        print(f"{stem}: float ops ours(ort) {counts[0]['float_ops']}, ours(onnx fixed-point) {counts[1]['float_ops']}, "
              f"onnxruntime {counts[2]['float_ops']}")
        print(f"  {'op':28} {'ours ort':>9} {'ours onnx-fp':>13} {'onnxruntime':>12}")
        for op in ops:
            print(f"  {op:28} {counts[0]['ops'].get(op, 0):9d} {counts[1]['ops'].get(op, 0):13d} "
                  f"{counts[2]['ops'].get(op, 0):12d}")

    if args.skip_scaling:
        return 0
    print("\n4. scaling: lower on QDQ chains (seconds, one run each)")
    previous = None
    for nodes in (1_000, 10_000, 100_000):
        float_path = os.path.join(CACHE, f"chain_{nodes}.onnx")
        qdq = os.path.join(CACHE, f"chain_{nodes}_qdq.onnx")
        try:
            if not os.path.exists(qdq):
                onnx.save(scaling_graph.chain(nodes), float_path)
                wall([binary, "insert", float_path, "-o", qdq, "--calib", "synthetic:2"], timeout=args.timeout)
            size = len(onnx.load(qdq).graph.node)
            seconds = wall([binary, "lower", qdq, "-o", os.path.join(CACHE, f"chain_{nodes}_int.onnx")],
                           timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"{nodes:>7} float nodes: over {args.timeout:.0f} s, larger sizes skipped")
            break
        growth = "" if previous is None else f"  x{seconds / previous:.1f} for x10 nodes"
        print(f"{nodes:>7} float nodes ({size} QDQ nodes): lower {seconds:.2f} s{growth}")
        previous = seconds
    return 0


if __name__ == "__main__":
    sys.exit(main())
