#!/usr/bin/env python3
"""Run pairs of models in onnxruntime on the same seeded random inputs and compare outputs.

Usage: PYTHON Tests/interop/ort_compare.py [--rtol R] [--atol A] [--seed N] [--skip-failing-original]
                                          ORIGINAL=CHANGED ...

For each pair: inputs are drawn once from ORIGINAL's graph inputs that are not initializers
(float tensors standard normal, integer tensors in [0, 4), bool tensors true; symbolic or
unknown dimensions = 2), both models run in a CPU session with graph optimizations disabled,
and every output of ORIGINAL must exist in CHANGED (same name), with the same shape and dtype,
and satisfy |changed - original| <= atol + rtol * |original| (exact for integers and bools).
Prints `PAIR: reason` for each failure, `PAIR: max abs difference D` for each success, and ends
with `ort_compare: N passed, M failed, K skipped`. With --skip-failing-original, a pair whose
ORIGINAL cannot be loaded or run in onnxruntime on these inputs (an op onnxruntime lacks,
random data an op rejects) is skipped with the reason, not failed.
Exit 0 when nothing failed, 1 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper


def feeds_for(path: str, rng: np.random.Generator) -> dict:
    model = onnx.load(path)
    initializers = {t.name for t in model.graph.initializer}
    feeds = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor_type = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else 2 for d in tensor_type.shape.dim]
        dtype = helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
        if dtype == np.bool_:
            feeds[value.name] = np.ones(dims, dtype=bool)
        elif np.issubdtype(dtype, np.integer):
            feeds[value.name] = rng.integers(0, 4, dims).astype(dtype)
        else:
            feeds[value.name] = rng.standard_normal(dims).astype(dtype)
    return feeds


def run(path: str, feeds: dict) -> dict:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds)))


class OriginalFails(Exception):
    pass


def compare(original: str, changed: str, rtol: float, atol: float, seed: int) -> tuple[str | None, float]:
    feeds = feeds_for(original, np.random.default_rng(seed))
    try:
        want = run(original, feeds)
    except Exception as error:  # noqa: BLE001 - onnxruntime raises several types
        raise OriginalFails(str(error)[:300]) from error
    got = run(changed, feeds)
    worst = 0.0
    for name, expected in want.items():
        if name not in got:
            return f"output '{name}' missing", worst
        actual = got[name]
        if actual.shape != expected.shape or actual.dtype != expected.dtype:
            found = f"{actual.dtype}{list(actual.shape)}"
            return f"output '{name}': {found} != {expected.dtype}{list(expected.shape)}", worst
        if not np.issubdtype(expected.dtype, np.floating):
            if not np.array_equal(actual, expected):
                return f"output '{name}' differs", worst
            continue
        difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        if difference.size:
            worst = max(worst, float(np.nanmax(difference)))
        if not np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True):
            return f"output '{name}': max abs difference {worst}", worst
    return None, worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+")
    parser.add_argument("--rtol", type=float, default=1e-5)
    parser.add_argument("--atol", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-failing-original", action="store_true")
    args = parser.parse_args()
    passed = failed = skipped = 0
    for pair in args.pairs:
        if "=" not in pair:
            print(f"ort_compare: expected ORIGINAL=CHANGED, got {pair}", file=sys.stderr)
            return 2
        original, changed = pair.split("=", 1)
        try:
            reason, worst = compare(original, changed, args.rtol, args.atol, args.seed)
        except OriginalFails as error:
            if args.skip_failing_original:
                skipped += 1
                print(f"{pair}: skipped, the original fails in onnxruntime: {error}")
                continue
            reason, worst = f"the original fails in onnxruntime: {error}", 0.0
        except Exception as error:  # noqa: BLE001 - reported per pair
            reason, worst = str(error)[:300], 0.0
        if reason is None:
            passed += 1
            print(f"{pair}: max abs difference {worst:.3g}")
        else:
            failed += 1
            print(f"{pair}: {reason}")
    print(f"ort_compare: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
