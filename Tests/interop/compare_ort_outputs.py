#!/usr/bin/env python3
"""Run two ONNX models in onnxruntime on the same random inputs and compare their outputs.

Usage: PYTHON Tests/interop/compare_ort_outputs.py A.onnx B.onnx [--rtol R] [--atol A] [--seed S]

Inputs are the session inputs of A (initializers that are overridable inputs are not fed);
B must have inputs of the same names, types and shapes. Symbolic or unknown dimensions are 1.
Floating-point inputs are standard normal, integer inputs 0 or 1, booleans random. Outputs
are matched by name: floating-point outputs must satisfy |b - a| <= atol + rtol * |a|
(NaN where the other is NaN), integer, boolean and string outputs must be equal; sparse
(COO) outputs are compared densified.
Prints one line per output and ends with `compare: N outputs equal, M differ`;
exit 0 when all are equal, 1 when any differs, 2 when the models cannot be compared.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import onnxruntime as ort

_NUMPY = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int8)": np.int8, "tensor(int16)": np.int16, "tensor(int32)": np.int32,
    "tensor(int64)": np.int64, "tensor(uint8)": np.uint8, "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32, "tensor(uint64)": np.uint64, "tensor(bool)": np.bool_,
}


def session(path: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 4
    # Our folding is what is being checked: keep onnxruntime from folding on its own.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def feeds_for(sess: ort.InferenceSession, rng: np.random.Generator) -> dict:
    feeds = {}
    for inp in sess.get_inputs():
        dtype = _NUMPY.get(inp.type)
        if dtype is None:
            raise ValueError(f"input {inp.name} has type {inp.type}, which this script cannot feed")
        shape = [d if isinstance(d, int) and d >= 0 else 1 for d in (inp.shape or [])]
        if np.issubdtype(dtype, np.floating):
            feeds[inp.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype is np.bool_:
            feeds[inp.name] = rng.integers(0, 2, size=shape).astype(bool)
        else:
            feeds[inp.name] = rng.integers(0, 2, size=shape).astype(dtype)
    return feeds


def dense(value) -> np.ndarray:
    """A numpy array for an output: sparse (COO) outputs are densified."""
    if hasattr(value, "get_coo_data") and hasattr(value, "dense_shape"):
        shape = tuple(value.dense_shape())
        values = np.asarray(value.values())
        indices = np.asarray(value.get_coo_data().indices())
        result = np.zeros(shape, dtype=values.dtype)
        if indices.ndim == 1:
            result.reshape(-1)[indices] = values
        else:
            result[tuple(indices.reshape(-1, len(shape)).T)] = values
        return result
    return np.asarray(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--rtol", type=float, default=1e-4)
    parser.add_argument("--atol", type=float, default=1e-5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        sess_a, sess_b = session(args.a), session(args.b)
        feeds = feeds_for(sess_a, np.random.default_rng(args.seed))
        names_b = {inp.name: inp for inp in sess_b.get_inputs()}
        for inp in sess_a.get_inputs():
            other = names_b.get(inp.name)
            if other is None or other.type != inp.type:
                raise ValueError(f"input {inp.name} of {args.a} is not an input of the same type in {args.b}")
        if set(names_b) != {inp.name for inp in sess_a.get_inputs()}:
            raise ValueError(f"inputs differ: {sorted(names_b)} in {args.b}")
        outputs_a = [o.name for o in sess_a.get_outputs()]
        results_a = sess_a.run(None, feeds)
        results_b = dict(zip([o.name for o in sess_b.get_outputs()], sess_b.run(None, feeds)))
    except Exception as error:  # noqa: BLE001 - reported, not raised
        print(f"compare: cannot compare: {error}")
        return 2
    equal = differ = 0
    for name, a in zip(outputs_a, results_a):
        b = results_b.get(name)
        if b is None:
            print(f"{name}: missing in {args.b}")
            differ += 1
            continue
        a, b = dense(a), dense(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            print(f"{name}: {a.dtype}{list(a.shape)} != {b.dtype}{list(b.shape)}")
            differ += 1
            continue
        if np.issubdtype(a.dtype, np.floating):
            wide_a, wide_b = a.astype(np.float64), b.astype(np.float64)
            both_nan = np.isnan(wide_a) & np.isnan(wide_b)
            error = np.where(both_nan, 0.0, np.abs(wide_b - wide_a) - args.rtol * np.abs(wide_a))
            worst = float(np.nanmax(error)) if error.size else 0.0
            ok = bool(np.all(error <= args.atol))
            detail = f"max |b-a| - rtol*|a| = {worst:.3g}"
        else:
            ok = bool(np.array_equal(a, b))
            detail = "exact"
        print(f"{name}: {'equal' if ok else 'DIFFERENT'} ({a.dtype}{list(a.shape)}, {detail})")
        equal += ok
        differ += not ok
    print(f"compare: {equal} outputs equal, {differ} differ")
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
