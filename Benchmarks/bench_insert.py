#!/usr/bin/env python3
"""Insert benchmark: `onnx-qat insert` against onnxruntime's static quantization, side by side in
one run, on the same models and the same calibration samples.

Usage: PYTHON Benchmarks/bench_insert.py --onnx-qat PATH [--repeat N] [--samples N] [--large-samples N]
       [--skip-scaling | --scaling-only] [--timeout S]

1. End to end, best of --repeat (default 3) wall times:
   ours:        `onnx-qat insert MODEL -o OUT --calib DIR` (a child process: load, fold, calibrate,
                insert, measure the error, save)
   onnxruntime: `quant_pre_process` + `quantize_static(QuantFormat.QDQ, per_channel=True,
                CalibrationMethod.MinMax)` called in this process (Python start-up and the
                onnxruntime import, printed once, are not counted against it)
   on the digits CNN (Fixtures/digits, its 32 calibration images), the ResNet-style CNN (224x224)
   and the MobileNet-style CNN (112x112) of Benchmarks/executor_models.py, each with --samples
   (default 32) standard-normal samples written to a temporary folder as .npz files; and the
   ResNet-style CNN once more with --large-samples (default 128) samples, because real
   calibration sets have hundreds of samples and there the per-sample work, not the fixed
   start-up of either tool, decides the ratio. Prints milliseconds and the ratio onnxruntime /
   ours (target: ours at least 10x faster), and beside it the floor physics sets for
   onnxruntime: N samples x one onnxruntime inference of the model (default session options,
   median of the samples), which quantize_static spends at least, since its calibration runs
   every sample through onnxruntime. `ort/floor` is then the largest ratio a tool that ran
   onnxruntime-speed inference once per sample could reach against onnxruntime; where it is
   under 10, the 10x target needs inference faster than onnxruntime's.
2. Scaling (Benchmarks/scaling_graph.py): chains of 1k, 10k and 100k nodes (Conv 1x1 on 4
   channels, BatchNormalization, Relu, residual Add, Mul by 0.5), timing `onnx-qat fold` (when
   the binary has that verb; whole process and the fold alone, as the verb prints it),
   `onnx-qat insert --calib synthetic:4 --json` (whole process, and the library call without load
   and save split into its stages from the report's `seconds`) and `onnx-qat lower` of the
   inserted (QDQ) chain; prints the growth per 10x nodes (10x is linear; issue 4's target: fold
   and insert of 100k nodes in under 10 s). A run over --timeout seconds (default 300) is killed
   and the larger sizes are skipped.
3. Memory: peak RSS of `onnx-qat insert` on the ResNet-style CNN with 8, 32 and 128 calibration
   samples, and whether it is flat: all within FLAT_MIB (3 MiB) of each other (it should not
   grow with the number of samples: calibration streams, and each lane's buffers are reused).
Models are cached in .build/bench/insert/. The machine may be shared: ratios are indicative.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(ROOT, ".build", "bench", "insert")
DIGITS = os.path.join(ROOT, "Fixtures", "digits")
GNU_TIME = "/usr/bin/time"
# Peak RSS counts as flat over MEMORY_SAMPLES when the peaks are all within this many MiB.
FLAT_MIB = 3.0
MEMORY_SAMPLES = (8, 32, 128)
sys.path.insert(0, HERE)

import executor_models  # noqa: E402
import scaling_graph  # noqa: E402


def run_child(command: list[str], timeout: float | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process; raises when it fails or, after
    `timeout` seconds, kills it and raises TimeoutError."""
    # The kernel's peak RSS of a forked child starts at its parent's (this Python process, with
    # onnxruntime loaded) and survives exec, so when GNU time is there it measures from a small parent.
    peak_file = None
    if os.access(GNU_TIME, os.X_OK):
        peak_file = tempfile.NamedTemporaryFile(suffix=".rss", delete=False)
        peak_file.close()
        command = [GNU_TIME, "-f", "%M", "-o", peak_file.name] + command
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid != 0:
                break
            if timeout is not None and time.perf_counter() - start > timeout:
                process.kill()
                os.wait4(process.pid, 0)
                process.returncode = -9
                raise TimeoutError(f"{' '.join(command)}: over {timeout:.0f} s")
            time.sleep(0.002)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()[-2000:]
            raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}: {message}")
    peak = usage.ru_maxrss
    if peak_file is not None:
        with open(peak_file.name) as f:
            peak = int(f.read().split()[-1])
        os.remove(peak_file.name)
    return elapsed, peak


def best_of(repeat: int, action) -> float:
    return min(action() for _ in range(repeat))


def write_samples(model_path: str, folder: str, count: int, seed: int) -> None:
    """`count` standard-normal samples for every graph input, one .npz per sample."""
    model = onnx.load(model_path, load_external_data=False)
    initializers = {t.name for t in model.graph.initializer}
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for index in range(count):
        arrays = {}
        for value in model.graph.input:
            if value.name in initializers:
                continue
            shape = [d.dim_value or 1 for d in value.type.tensor_type.shape.dim]
            arrays[value.name] = rng.standard_normal(shape).astype(np.float32)
        np.savez(os.path.join(folder, f"sample_{index:03d}.npz"), **arrays)


def models(samples: int) -> list[tuple[str, str, str]]:
    """(label, model path, calibration folder) for the end-to-end comparison."""
    os.makedirs(CACHE, exist_ok=True)
    built = [("digits_cnn", os.path.join(DIGITS, "digits_cnn.onnx"), os.path.join(DIGITS, "calib"))]
    for stem, build in (("resnet_block", lambda: executor_models.resnet(224)),
                        ("mobilenet_block", lambda: executor_models.mobilenet(112))):
        path = os.path.join(CACHE, stem + ".onnx")
        if not os.path.exists(path):
            onnx.save(build(), path)
        calib = os.path.join(CACHE, f"{stem}_calib_{samples}")
        if not os.path.isdir(calib):
            write_samples(path, calib, samples, seed=7)
        built.append((stem, path, calib))
    return built


def ours(binary: str, model: str, calib: str, out: str, timeout: float | None = None) -> tuple[float, int]:
    return run_child([binary, "insert", model, "-o", out, "--calib", calib], timeout)


def repeated(args, action) -> tuple[float, int]:
    """Best time and largest peak RSS over --repeat runs; a single run when it takes over 10 s."""
    runs = [action()]
    while len(runs) < args.repeat and runs[0][0] < 10:
        runs.append(action())
    return min(r[0] for r in runs), max(r[1] for r in runs)


def onnxruntime_quantize(model: str, calib: str, out: str) -> float:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    sys.path.insert(0, os.path.join(ROOT, "Tests", "interop"))
    from ort_quantize_static import FolderReader

    start = time.perf_counter()
    prepared = out + ".prepared.onnx"
    quant_pre_process(model, prepared, skip_symbolic_shape=True)
    quantize_static(prepared, out, FolderReader(calib), quant_format=QuantFormat.QDQ, per_channel=True,
                    calibrate_method=CalibrationMethod.MinMax, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8)
    elapsed = time.perf_counter() - start
    os.remove(prepared)
    return elapsed


def onnxruntime_floor(model: str, calib: str) -> tuple[float, int]:
    """(N x the median seconds of one onnxruntime inference over the N samples, N)."""
    import glob

    import onnxruntime as ort

    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    paths = sorted(glob.glob(os.path.join(calib, "*.npz")))
    feeds = []
    for path in paths:
        with np.load(path) as archive:
            feeds.append({name: archive[name] for name in archive.files})
    session.run(None, feeds[0])  # warm-up: first-run allocations are not inference
    times = []
    for feed in feeds:
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return len(feeds) * float(np.median(times)), len(feeds)


def growth(current: float | None, previous: float | None) -> str:
    return f"{current / previous:.1f}x" if current and previous else ""


def has_verb(binary: str, verb: str) -> bool:
    result = subprocess.run([binary, verb, "--help"], capture_output=True)
    return result.returncode == 0


def run_capture(command: list[str], timeout: float) -> tuple[float, int, str]:
    """Like run_child, keeping the child's standard output: (wall seconds, peak RSS KiB, stdout)."""
    with tempfile.NamedTemporaryFile(suffix=".out", delete=False) as capture:
        path = capture.name
    try:
        elapsed, peak = run_child(["/bin/sh", "-c", 'exec "$@" > "$0"', path] + command, timeout)
        with open(path) as f:
            return elapsed, peak, f.read()
    finally:
        os.remove(path)


def fold_run(binary: str, path: str, out: str, timeout: float) -> tuple[float, int, float]:
    """(wall seconds, peak RSS KiB, seconds of the fold itself) of `onnx-qat fold`: the verb prints
    the time of Folding.fold without load and save ("folded MODEL in N ms")."""
    elapsed, peak, text = run_capture([binary, "fold", path, "-o", out], timeout)
    match = re.search(r"folded .* in ([0-9.]+) ms", text)
    return elapsed, peak, float(match.group(1)) / 1000 if match else float("nan")


def insert_run(binary: str, path: str, out: str, timeout: float) -> tuple[float, int, dict]:
    """(wall seconds, peak RSS KiB, the report's `seconds`) of `onnx-qat insert --calib synthetic:4 --json`."""
    elapsed, peak, text = run_capture(
        [binary, "insert", path, "-o", out, "--calib", "synthetic:4", "--json"], timeout)
    return elapsed, peak, json.loads(text)["seconds"]


def best_run(args, action):
    """The run with the least wall time over --repeat runs (one run when it takes over 10 s), with
    the largest peak RSS of all."""
    runs = [action()]
    while len(runs) < args.repeat and runs[0][0] < 10:
        runs.append(action())
    best = min(runs, key=lambda r: r[0])
    return (best[0], max(r[1] for r in runs)) + tuple(best[2:])


def scaling(args, binary: str, work: str) -> None:
    """Section 2: fold, insert (with its stages) and lower on chains of 1k, 10k and 100k nodes."""
    fold = has_verb(binary, "fold")
    print("\n== scaling: Conv/BatchNormalization/Relu/Add/Mul chain, best of "
          f"{args.repeat}" + ("" if fold else " (fold: this binary has no fold verb, columns skipped)"))
    header = (f"{'nodes':>7} {'fold wall':>10} {'fold':>9} {'growth':>7} {'insert wall':>12} {'insert':>9} "
              f"{'growth':>7} {'i.fold':>8} {'i.calib':>8} {'i.quant':>8} {'i.error':>8} {'load+save':>10} "
              f"{'lower wall':>11} {'growth':>7} {'RSS MiB':>8}")
    print(header)
    previous: dict[str, float | None] = {"fold": None, "insert": None, "lower": None}
    for nodes in (1_000, 10_000, 100_000):
        path = os.path.join(CACHE, f"chain_{nodes}.onnx")
        if not os.path.exists(path):
            os.makedirs(CACHE, exist_ok=True)
            onnx.save(scaling_graph.chain(nodes), path)
        out = os.path.join(work, f"chain_{nodes}")
        try:
            fold_wall = fold_only = None
            if fold:
                fold_wall, _, fold_only = best_run(
                    args, lambda: fold_run(binary, path, out + "_fold.onnx", args.timeout))
            insert_wall, rss, stages = best_run(
                args, lambda: insert_run(binary, path, out + "_insert.onnx", args.timeout))
        except TimeoutError as error:
            print(f"{nodes:>7} timed out ({error}); larger sizes skipped")
            break
        try:
            lower_time = repeated(args, lambda: run_child(
                [binary, "lower", out + "_insert.onnx", "-o", out + "_lower.onnx"], args.timeout))[0]
        except TimeoutError:
            lower_time = None  # printed as "timeout"; fold and insert go on to the next size

        def ms(seconds: float | None) -> str:
            return f"{1000 * seconds:.0f}" if seconds is not None else "-"

        inside = stages["total"]
        print(f"{nodes:>7} {ms(fold_wall):>10} {ms(fold_only):>9} {growth(fold_only, previous['fold']):>7} "
              f"{ms(insert_wall):>12} {ms(inside):>9} {growth(inside, previous['insert']):>7} "
              f"{ms(stages['fold']):>8} {ms(stages['calibration']):>8} {ms(stages['insertion']):>8} "
              f"{ms(stages['evaluation']):>8} {ms(insert_wall - inside):>10} "
              f"{ms(lower_time) if lower_time is not None else 'timeout':>11} "
              f"{growth(lower_time, previous['lower']):>7} {rss / 1024:>8.1f}", flush=True)
        previous = {"fold": fold_only, "insert": inside, "lower": lower_time}
    print("milliseconds. fold wall, insert wall, lower wall: the whole process (load and save included); "
          "fold: Folding.fold alone (what the verb prints); insert: the library call without load and save "
          "(the report's seconds.total), split into i.fold (fold, opset and IR upgrade), i.calib (type probe "
          "and calibration runs), i.quant (parameters and Q/DQ insertion), i.error (fake-quant runs and "
          "error metrics); load+save: insert wall - insert. growth: ratio to the previous size (10x the "
          "nodes), 10x is linear; RSS: peak of the insert runs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onnx-qat", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--large-samples", type=int, default=128,
                        help="samples of the extra resnet_block row (0 skips it)")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--scaling-only", action="store_true", help="run section 2 alone")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per scaling run before giving up")
    args = parser.parse_args()
    binary = os.path.abspath(args.onnx_qat)
    work = tempfile.mkdtemp(prefix="onnx-qat-bench-insert-")
    if args.scaling_only:
        try:
            scaling(args, binary, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    try:
        start = time.perf_counter()
        import onnxruntime  # noqa: F401
        import onnxruntime.quantization  # noqa: F401

        print(f"onnxruntime {onnxruntime.__version__}: import takes {1000 * (time.perf_counter() - start):.0f} ms "
              "(not counted)")
        print(f"\n== insert end to end, {args.samples} calibration samples (digits: its 32), best of {args.repeat}")
        print(f"{'model':<18} {'nodes':>6} {'samples':>7} {'onnx-qat ms':>12} {'onnxruntime ms':>15} "
              f"{'ort/ours':>9} {'ort floor ms':>13} {'ort/floor':>10}")
        cases = models(args.samples)
        if args.large_samples > 0:
            path = os.path.join(CACHE, "resnet_block.onnx")
            calib = os.path.join(CACHE, f"resnet_block_calib_{args.large_samples}")
            if not os.path.isdir(calib):
                write_samples(path, calib, args.large_samples, seed=7)
            cases.append(("resnet_block", path, calib))
        for label, path, calib in cases:
            out = os.path.join(work, label)
            nodes = len(onnx.load(path, load_external_data=False).graph.node)
            mine = best_of(args.repeat, lambda: ours(binary, path, calib, out + "_ours.onnx")[0])
            theirs = best_of(args.repeat, lambda: onnxruntime_quantize(path, calib, out + "_ort.onnx"))
            floor, count = onnxruntime_floor(path, calib)
            print(f"{label:<18} {nodes:>6} {count:>7} {1000 * mine:>12.1f} {1000 * theirs:>15.1f} "
                  f"{theirs / mine:>8.1f}x {1000 * floor:>13.1f} {theirs / floor:>9.1f}x")
        print("ort floor: N samples x onnxruntime's own inference time, the least quantize_static spends; "
              "ort/floor: the best ratio reachable with onnxruntime-speed inference")

        if not args.skip_scaling:
            scaling(args, binary, work)

        print("\n== peak RSS of onnx-qat insert on resnet_block (224x224) by calibration samples")
        path = os.path.join(CACHE, "resnet_block.onnx")
        peaks = []
        for count in MEMORY_SAMPLES:
            calib = os.path.join(work, f"resnet_calib_{count}")
            write_samples(path, calib, count, seed=11)
            elapsed, rss = ours(binary, path, calib, os.path.join(work, f"resnet_{count}.onnx"))
            peaks.append(rss / 1024)
            print(f"{count:>3} samples: peak RSS {rss / 1024:.1f} MiB, {1000 * elapsed:.0f} ms")
        spread = max(peaks) - min(peaks)
        verdict = "flat" if spread <= FLAT_MIB else "NOT flat"
        print(f"peak RSS {verdict}: {spread:.1f} MiB between the lowest and the highest "
              f"(flat: within {FLAT_MIB:.0f} MiB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
