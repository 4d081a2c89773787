#!/usr/bin/env python3
"""Load + save of a large ONNX model: `onnx-qat convert` against Python's onnx, in one run.

    python Benchmarks/bench_roundtrip.py --onnx-qat .build/release/onnx-qat [--size-mb 500]
        [--repeat 3] [--keep] [--work-dir .build/bench] [--python PYTHON]

The model (float32 initializers of varied sizes feeding Conv/Mul/Add/MatMul nodes, IR 10,
opset 17, random data from a fixed seed) is generated once and cached in the work folder.
Each measured run is a fresh child process, reaped with os.wait4 so that the peak RSS is
that child's own. Linux carries the parent's high-water RSS into a child at exec, so this
script keeps itself small (the model is generated in a separate process, files are read
through a 1 MiB buffer) and prints that floor (the peak RSS of /bin/true). The page cache is
warmed first, each tool has an untimed warm-up run, then ours and Python's runs alternate.

  ours    `onnx-qat convert model.onnx -o out.onnx` (load + save); wall time of the process.
  python  a child running `m = onnx.load(p); onnx.save(m, out)`. Its process wall time is
          shown, but the throughput uses only the load + save time measured inside the child
          (interpreter start-up and `import onnx` excluded), which favours Python.

Our output must be byte-identical to the input. Targets (reported PASS/MISS, they do not
change the exit status): throughput ours/python >= 3.0; our peak RSS <= 2.2 x file size.
The exit status is non-zero only when something failed to run or our output differs.
MB here means MiB (2^20 bytes).

Many nodes instead of many bytes:

    python Benchmarks/bench_roundtrip.py --onnx-qat .build/release/onnx-qat --nodes 1000,10000,100000
        [--qdq] [--repeat 3] [--work-dir .build/bench] [--python PYTHON]

times the same pair (ours: `onnx-qat convert`, whole process; python: load + save inside its
child) on the chains of Benchmarks/scaling_graph.py (five nodes and six small initializers per
block; 100,000 nodes make an 11 MiB file), cached in the work folder. `--qdq` adds each chain
after `onnx-qat insert --calib synthetic:4` (made once with the given binary and cached: about
2.4 nodes per float node). Prints best and median seconds, peak RSS, the ratio python/ours and
the growth per 10x nodes (10x is linear). Target (PASS/MISS, not the exit status): our convert
of the largest chain under 1 s. Outputs must be byte-identical to the inputs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1 << 20
SEED = 20240601
GENERATOR_VERSION = 1  # bump when the generated model changes, so the cache is rebuilt
TARGET_THROUGHPUT_RATIO = 3.0
TARGET_RSS_RATIO = 2.2
TARGET_NODES_SECONDS = 1.0

PYTHON_CHILD = r"""
import sys, time, json
t0 = time.perf_counter()
import onnx
t1 = time.perf_counter()
m = onnx.load(sys.argv[1])
t2 = time.perf_counter()
onnx.save(m, sys.argv[2])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "save": t3 - t2}))
"""


# --- model generation ----------------------------------------------------------------------


def generate_model(path: Path, size_mb: int) -> None:
    """Writes a ~size_mb MiB model: a convolutional stem (about a quarter of the bytes; each
    conv has a weight, a bias and a folded-BatchNorm scale and shift) and a residual MLP
    (MatMul + bias, Relu, MatMul + bias, residual Add, then scale and shift per block)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(SEED)
    budget = size_mb * MIB
    initializers: list[TensorProto] = []
    nodes: list[onnx.NodeProto] = []
    total = 0

    def init(name: str, shape: tuple[int, ...], scale: float) -> str:
        nonlocal total
        array = (rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)).astype(np.float32)
        initializers.append(numpy_helper.from_array(array, name))
        total += array.nbytes
        return name

    def node(op: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output.replace("_out", ""), **attrs))
        return output

    # Convolutional stem: input [1, 3, 64, 64].
    x = "input"
    channels, spatial, layer = 3, 64, 0
    conv_budget = budget // 4
    widths = [32, 64, 128, 256, 384, 512]
    stage = 0
    while True:
        width = widths[min(stage, len(widths) - 1)]
        for i in range(3):
            cost = (width * channels * 9 + 3 * width) * 4
            if layer > 0 and total + cost > conv_budget:
                break
            stride = 2 if i == 0 and spatial > 4 else 1
            w = init(f"conv{layer}.weight", (width, channels, 3, 3), (2.0 / (channels * 9)) ** 0.5)
            b = init(f"conv{layer}.bias", (width,), 0.01)
            x = node("Conv", [x, w, b], f"conv{layer}_out", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                     strides=[stride, stride])
            x = node("Mul", [x, init(f"bn{layer}.scale", (width, 1, 1), 0.1)], f"bn{layer}_mul_out")
            x = node("Add", [x, init(f"bn{layer}.shift", (width, 1, 1), 0.1)], f"bn{layer}_add_out")
            x = node("Relu", [x], f"relu{layer}_out")
            spatial = (spatial + stride - 1) // stride
            channels = width
            layer += 1
        else:
            stage += 1
            continue
        break
    x = node("GlobalAveragePool", [x], "pool_out")
    x = node("Flatten", [x], "flatten_out", axis=1)

    # Residual MLP: d = 768, hidden width cycling through 2x, 3x, 4x.
    d = 768
    x = node("MatMul", [x, init("proj.weight", (channels, d), channels ** -0.5)], "proj_out")
    x = node("Add", [x, init("proj.bias", (d,), 0.01)], "proj_bias_out")
    head_cost = (d * 1000 + 1000) * 4
    block = 0
    while True:
        hidden = d * (2 + block % 3)
        cost = (2 * d * hidden + hidden + 3 * d) * 4
        if block > 0 and total + cost + head_cost > budget:
            break
        p = f"block{block}"
        h = node("MatMul", [x, init(f"{p}.fc1.weight", (d, hidden), d ** -0.5)], f"{p}_fc1_out")
        h = node("Add", [h, init(f"{p}.fc1.bias", (hidden,), 0.01)], f"{p}_fc1_bias_out")
        h = node("Relu", [h], f"{p}_relu_out")
        h = node("MatMul", [h, init(f"{p}.fc2.weight", (hidden, d), hidden ** -0.5)], f"{p}_fc2_out")
        h = node("Add", [h, init(f"{p}.fc2.bias", (d,), 0.01)], f"{p}_fc2_bias_out")
        x = node("Add", [x, h], f"{p}_residual_out")
        x = node("Mul", [x, init(f"{p}.norm.scale", (d,), 0.1)], f"{p}_scale_out")
        x = node("Add", [x, init(f"{p}.norm.shift", (d,), 0.1)], f"{p}_shift_out")
        block += 1
    x = node("MatMul", [x, init("head.weight", (d, 1000), d ** -0.5)], "head_out")
    node("Add", [x, init("head.bias", (1000,), 0.01)], "logits")

    graph = helper.make_graph(
        nodes, "bench_roundtrip",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])],
        initializer=initializers)
    model = helper.make_model(graph, producer_name="onnx-qat-bench", producer_version=str(GENERATOR_VERSION),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    tmp = path.with_name(path.name + ".tmp-gen")
    onnx.save(model, str(tmp))
    os.replace(tmp, path)
    print(f"generated {path}: {len(initializers)} initializers, {len(nodes)} nodes, "
          f"{total / MIB:.1f} MiB of weights, file {path.stat().st_size / MIB:.1f} MiB")


# --- measurement ---------------------------------------------------------------------------


def warm(path: Path) -> None:
    buffer = bytearray(MIB)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buffer):
            pass


def run_child(argv: list[str], label: str) -> dict:
    """Runs argv as a fresh child; returns wall seconds, peak RSS (bytes) and stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed (exit {proc.returncode}): {' '.join(argv)}\n{stderr.strip()}")
    return {"wall": wall, "rss": usage.ru_maxrss * 1024, "stdout": stdout}


def same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    x, y = bytearray(MIB), bytearray(MIB)
    with open(a, "rb", buffering=0) as fa, open(b, "rb", buffering=0) as fb:
        while True:
            n, m = fa.readinto(x), fb.readinto(y)
            if n != m or x[:n] != y[:m]:
                return False
            if n == 0:
                return True


def measure_pair(model: Path, ours_cmd: list[str], python_cmd: list[str], outs: tuple[Path, Path],
                 repeat: int, quiet: bool = False) -> tuple[list[dict], list[dict]]:
    """Warms the page cache, runs each tool once untimed, then `repeat` alternating timed runs."""
    warm(model)
    run_child(ours_cmd, "onnx-qat convert")
    run_child(python_cmd, "python onnx.load+save")
    ours, python = [], []
    for i in range(repeat):
        for out in outs:
            out.unlink(missing_ok=True)
        r = run_child(ours_cmd, "onnx-qat convert")
        ours.append(r)
        r = run_child(python_cmd, "python onnx.load+save")
        inner = json.loads(r["stdout"].strip().splitlines()[-1])
        r["inner"] = inner["load"] + inner["save"]
        r["detail"] = inner
        python.append(r)
        if not quiet:
            print(f"  run {i + 1}/{repeat} ours:   {ours[-1]['wall']:7.3f} s  peak RSS {ours[-1]['rss'] / MIB:7.1f} MiB",
                  flush=True)
            print(f"  run {i + 1}/{repeat} python: {r['wall']:7.3f} s process, {r['inner']:7.3f} s load+save "
                  f"(load {inner['load']:.3f}, save {inner['save']:.3f}, import {inner['import']:.3f})  "
                  f"peak RSS {r['rss'] / MIB:7.1f} MiB", flush=True)
    return ours, python


def node_counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 5:
        raise ValueError("--nodes takes a comma-separated list of node counts of at least 5")
    return counts


def nodes_mode(args, binary: Path, work: Path) -> int:
    """Convert of the scaling chains (and their Q/DQ versions) against Python's load + save."""
    scaling = Path(__file__).resolve().parent / "scaling_graph.py"
    models: list[tuple[str, int, Path]] = []
    for count in node_counts(args.nodes):
        chain = work / f"chain-{count}.onnx"
        if not chain.exists():
            print(f"generating {chain} (once) ...", flush=True)
            subprocess.run([args.python, str(scaling), str(count), str(chain)], check=True,
                           stdout=subprocess.DEVNULL)
        models.append(("float", count, chain))
    if args.qdq:
        for count in node_counts(args.nodes):
            qdq = work / f"chain-{count}-qdq.onnx"
            if not qdq.exists():
                print(f"inserting Q/DQ into chain-{count} with {binary.name} (once; cached as {qdq}) ...", flush=True)
                subprocess.run([str(binary), "insert", str(work / f"chain-{count}.onnx"), "-o", str(qdq),
                                "--calib", "synthetic:4"], check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            models.append(("qdq", count, qdq))

    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"ours:     {binary} ({version})")
    print(f"machine:  {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"RSS floor: {run_child(['/bin/true'], '/bin/true')['rss'] / MIB:.1f} MiB")
    ours_out, python_out = work / "out-onnx-qat.onnx", work / "out-python.onnx"
    rows = []
    identical = True
    try:
        for kind, count, model in models:
            nodes = count if kind == "float" else graph_node_count(args.python, model)
            print(f"{kind} chain of {count} nodes ({nodes} nodes, {model.stat().st_size / MIB:.1f} MiB) ...",
                  flush=True)
            ours_cmd = [str(binary), "convert", str(model), "-o", str(ours_out)]
            python_cmd = [args.python, "-c", PYTHON_CHILD, str(model), str(python_out)]
            ours, python = measure_pair(model, ours_cmd, python_cmd, (ours_out, python_out), args.repeat,
                                        quiet=True)
            same = same_bytes(model, ours_out)
            identical = identical and same
            rows.append({
                "kind": kind, "nodes": nodes, "mib": model.stat().st_size / MIB, "same": same,
                "ours": sorted(r["wall"] for r in ours), "ours_rss": max(r["rss"] for r in ours),
                "python": sorted(r["inner"] for r in python), "python_rss": max(r["rss"] for r in python),
            })
    finally:
        for out in (ours_out, python_out):
            out.unlink(missing_ok=True)

    print()
    print(f"=== summary: load + save of generated chains, {args.repeat} timed runs each "
          f"(python: load + save inside its process) ===")
    print(f"{'model':8}{'nodes':>9}{'MiB':>7}{'ours best s':>13}{'median':>9}{'RSS MiB':>9}"
          f"{'python best s':>15}{'median':>9}{'RSS MiB':>9}{'python/ours':>13}{'ours per 10x':>14}{'same':>6}")
    previous: dict[str, dict] = {}
    for row in rows:
        best, median = row["ours"][0], statistics.median(row["ours"])
        py_best, py_median = row["python"][0], statistics.median(row["python"])
        before = previous.get(row["kind"])
        growth = ""
        if before is not None:
            # Time ratio normalised to a 10x step (the Q/DQ chains grow by about, not exactly, 10x).
            per10 = (best / before["ours"][0]) ** (1 / math.log10(row["nodes"] / before["nodes"]))
            growth = f"{per10:.1f}x"
        previous[row["kind"]] = row
        print(f"{row['kind']:8}{row['nodes']:9d}{row['mib']:7.1f}{best:13.3f}{median:9.3f}{row['ours_rss'] / MIB:9.1f}"
              f"{py_best:15.3f}{py_median:9.3f}{row['python_rss'] / MIB:9.1f}{py_median / median:12.1f}x"
              f"{growth:>14}{'yes' if row['same'] else 'NO':>6}")
    largest = max(rows, key=lambda row: row["nodes"])
    verdict = "PASS" if largest["ours"][0] < TARGET_NODES_SECONDS else "MISS"
    print(f"target our convert of the largest chain ({largest['nodes']} nodes) < {TARGET_NODES_SECONDS:.0f} s: "
          f"{verdict} ({largest['ours'][0]:.3f} s best)")
    print(f"byte-identical outputs: {'yes' if identical else 'NO'}")
    return 0 if identical else 1


def graph_node_count(python: str, model: Path) -> int:
    code = "import onnx, sys; print(len(onnx.load(sys.argv[1]).graph.node))"
    return int(subprocess.run([python, "-c", code, str(model)], capture_output=True, text=True,
                              check=True).stdout.strip())


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--onnx-qat", help="path of the onnx-qat binary (a release build); required")
    parser.add_argument("--size-mb", type=int, default=500, help="model size in MiB (default 500)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each tool (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the outputs of the last runs")
    parser.add_argument("--work-dir", default=str(root / ".build" / "bench"),
                        help="where the model is cached and outputs are written (default .build/bench)")
    parser.add_argument("--python", default=sys.executable,
                        help="python with onnx and numpy for the model generator and the Python child "
                             "(default: the one running this script)")
    parser.add_argument("--nodes", metavar="N,N,...",
                        help="time the scaling chains of these node counts instead of the large model")
    parser.add_argument("--qdq", action="store_true",
                        help="with --nodes: also each chain after `onnx-qat insert --calib synthetic:4`")
    parser.add_argument("--generate", metavar="PATH", help=argparse.SUPPRESS)  # internal: the generator child
    args = parser.parse_args()
    if args.size_mb < 1 or args.repeat < 1:
        parser.error("--size-mb and --repeat must be at least 1")
    if args.generate:
        generate_model(Path(args.generate), args.size_mb)
        return 0
    if not args.onnx_qat:
        parser.error("--onnx-qat is required")
    binary = Path(args.onnx_qat).resolve()
    if not os.access(binary, os.X_OK):
        print(f"bench: {binary} is not an executable (build it with `swift build -c release`)", file=sys.stderr)
        return 1

    work = Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.nodes:
        try:
            return nodes_mode(args, binary, work)
        except (OSError, RuntimeError, subprocess.CalledProcessError, ValueError, IndexError, KeyError) as error:
            print(f"bench: {error}", file=sys.stderr)
            return 1
    model = work / f"roundtrip-{args.size_mb}mb-seed{SEED}-v{GENERATOR_VERSION}.onnx"
    ours_out, python_out = work / "out-onnx-qat.onnx", work / "out-python.onnx"
    try:
        if not model.exists():
            print(f"generating a {args.size_mb} MiB model (once; cached as {model}) ...", flush=True)
            # In its own process, so that this one stays small (see the RSS floor above).
            subprocess.run([args.python, str(Path(__file__).resolve()), "--generate", str(model),
                            "--size-mb", str(args.size_mb)], check=True)
        size = model.stat().st_size
        version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
        versions = subprocess.run(
            [args.python, "-c", "import onnx,platform;print(onnx.__version__, platform.python_version())"],
            capture_output=True, text=True, check=True).stdout.split()
        floor = run_child(["/bin/true"], "/bin/true")["rss"]
        print(f"model:    {model} ({size / MIB:.1f} MiB)")
        print(f"ours:     {binary} ({version})")
        print(f"python:   {args.python} (onnx {versions[0]}, python {versions[1]})")
        print(f"machine:  {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
        print(f"RSS floor: {floor / MIB:.1f} MiB (peak RSS reported for /bin/true spawned from here)")
        warm(model)
        warm(model)

        ours_cmd = [str(binary), "convert", str(model), "-o", str(ours_out)]
        python_cmd = [args.python, "-c", PYTHON_CHILD, str(model), str(python_out)]
        print("warm-up runs (untimed), then timed runs ...", flush=True)
        ours, python = measure_pair(model, ours_cmd, python_cmd, (ours_out, python_out), args.repeat)

        identical = same_bytes(model, ours_out)
        python_identical = same_bytes(model, python_out)
        print(f"check: our output is byte-identical to the input: {'yes' if identical else 'NO'}")
        print(f"       (python's output is byte-identical to the input: {'yes' if python_identical else 'no'})")

        def stats(times: list[float]) -> tuple[float, float]:
            return min(times), statistics.median(times)

        mb = size / MIB
        ours_best, ours_median = stats([r["wall"] for r in ours])
        py_best, py_median = stats([r["inner"] for r in python])
        py_proc_best, py_proc_median = stats([r["wall"] for r in python])
        ours_rss, py_rss = max(r["rss"] for r in ours), max(r["rss"] for r in python)
        ratio_best, ratio_median = py_best / ours_best, py_median / ours_median
        rss_ratio = ours_rss / size

        print()
        print(f"=== summary: load + save of a {mb:.1f} MiB model, {args.repeat} timed runs each ===")
        print(f"{'':24}{'best s':>9}{'median s':>10}{'best MiB/s':>12}{'median MiB/s':>14}"
              f"{'peak RSS MiB':>14}{'RSS/file':>10}")
        rows = [("onnx-qat convert", ours_best, ours_median, ours_rss),
                ("python load+save", py_best, py_median, py_rss),
                ("python (whole process)", py_proc_best, py_proc_median, py_rss)]
        for label, best, median, rss in rows:
            print(f"{label:24}{best:9.3f}{median:10.3f}{mb / best:12.1f}{mb / median:14.1f}"
                  f"{rss / MIB:14.1f}{rss / size:10.2f}")
        print(f"throughput ratio ours/python: {ratio_best:.2f}x best, {ratio_median:.2f}x median "
              f"(python timed inside its process: start-up and import excluded)")
        print(f"byte-identical output: {'yes' if identical else 'NO'}")
        print(f"target throughput ratio >= {TARGET_THROUGHPUT_RATIO}x: "
              f"{'PASS' if ratio_median >= TARGET_THROUGHPUT_RATIO else 'MISS'} ({ratio_median:.2f}x median)")
        print(f"target our peak RSS <= {TARGET_RSS_RATIO}x file size: "
              f"{'PASS' if rss_ratio <= TARGET_RSS_RATIO else 'MISS'} ({rss_ratio:.2f}x)")
        return 0 if identical else 1
    except (OSError, RuntimeError, subprocess.CalledProcessError, ValueError, IndexError, KeyError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            for out in (ours_out, python_out):
                out.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
