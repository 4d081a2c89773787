#!/usr/bin/env python3
"""Check ONNX models with the reference tools (onnx checker, onnxruntime) and compare pairs.

Usage:
  PYTHON Tests/interop/check_models.py [--ort] [--no-ort SUBSTRING ...]
                                       [--equal ORIGINAL=WRITTEN ...] [MODEL ...]

For each MODEL:
  * onnx.load(MODEL) (external data loaded from the model's folder);
  * onnx.checker.check_model(MODEL_PATH, full_check=True) -- the path form, so external
    data and models over 2 GB are handled by the checker itself;
  * with --ort: create a CPU onnxruntime.InferenceSession and, when every input is a
    float/int/bool tensor of known rank, run it once on random input (symbolic or unknown
    dimensions = 1). Models whose path contains any --no-ort SUBSTRING skip this step.
For each --equal ORIGINAL=WRITTEN (the flag may be repeated; the pair is one argument):
  load both files, move every externally stored tensor's bytes into raw_data (clearing
  external_data and data_location, on both sides, so where the bytes lived does not
  matter), and compare the ModelProtos with ==. When they differ, print the path of the
  first differing field, e.g. `graph.node[3]<conv1>.attribute[0]<pads>.ints[2]: 1 != 0`.
  Unknown fields (fields the installed onnx schema does not know) are compared too.

Prints `PATH: reason` for each failure and ends with exactly
`interop: N passed, M failed` (one item per MODEL and per --equal pair).
Exit status: 0 when all passed, 1 on any failure, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import traceback

import numpy as np
import onnx
from onnx import external_data_helper

# --------------------------------------------------------------------------------------
# loading with external data normalised


def _is_repeated(field) -> bool:
    # protobuf >= 5 has is_repeated; FieldDescriptor.label is gone in protobuf 7.
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == field.LABEL_REPEATED


def _iter_tensors(msg, path=()):
    """Yield (path, TensorProto) for every tensor inside msg (graphs, subgraphs, functions,
    attributes, sparse tensors, training_info -- any nesting), found by walking all message
    fields. path is a tuple of (field name, index or None)."""
    if isinstance(msg, onnx.TensorProto):
        yield path, msg
        return
    for field, value in msg.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if _is_repeated(field):
            for i, item in enumerate(value):
                yield from _iter_tensors(item, path + ((field.name, i),))
        else:
            yield from _iter_tensors(value, path + ((field.name, None),))


def load_with_external_data(path: str) -> tuple[onnx.ModelProto, set]:
    """Load a model and move every externally stored tensor's bytes into raw_data
    (clearing external_data and data_location). Returns the model and the set of tensor
    paths that were external. Tensors stored inline are left exactly as parsed."""
    model = onnx.load(path, load_external_data=False)
    base_dir = os.path.dirname(os.path.abspath(path))
    external = set()
    for tpath, tensor in _iter_tensors(model):
        if external_data_helper.uses_external_data(tensor):
            external_data_helper.load_external_data_for_tensor(tensor, base_dir)
            tensor.ClearField("external_data")
            tensor.ClearField("data_location")
            external.add(tpath)
    return model, external


def load_pair(original: str, written: str) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """Load both models so that where tensor bytes lived does not matter: a tensor that was
    external in either file has its bytes in raw_data and no external_data/data_location
    in both (an explicit data_location=DEFAULT, as onnx.load writes after loading external
    data, is dropped for those tensors). Everything else is compared exactly."""
    a, ext_a = load_with_external_data(original)
    b, ext_b = load_with_external_data(written)
    either = ext_a | ext_b
    for model in (a, b):
        for tpath, tensor in _iter_tensors(model):
            if tpath in either and tensor.data_location == onnx.TensorProto.DEFAULT:
                tensor.ClearField("data_location")
    return a, b


# --------------------------------------------------------------------------------------
# a small recursive differ


def _unknown(msg) -> list:
    try:
        from google.protobuf.unknown_fields import UnknownFieldSet
    except ImportError:  # very old protobuf
        return []
    out = []
    for f in UnknownFieldSet(msg):
        data = f.data
        if hasattr(data, "__iter__") and not isinstance(data, (bytes, str)):
            data = repr([(g.field_number, g.wire_type, g.data) for g in data])
        out.append((f.field_number, f.wire_type, data))
    return out


def _label(msg) -> str:
    """`<name>` for elements that have a non-empty name-like field, to make paths readable."""
    for attr in ("name", "key", "tensor_name", "domain"):
        try:
            v = getattr(msg, attr)
        except AttributeError:
            continue
        if isinstance(v, str) and v:
            return f"<{v}>"
    return ""


def _short(v) -> str:
    if isinstance(v, bytes):
        if len(v) > 24:
            return f"{len(v)} bytes {v[:16].hex()}..."
        return repr(v)
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


def _describe(a, b) -> str:
    if isinstance(a, bytes) and isinstance(b, bytes):
        k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return f"bytes differ at offset {k} (lengths {len(a)} and {len(b)})"
    return f"{_short(a)} != {_short(b)}"


def _same_scalar(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def first_difference(a, b, path: str = "") -> str | None:
    """Return 'path: description' of the first difference between two messages of the
    same type, or None when no field-level difference is found."""
    for field in a.DESCRIPTOR.fields:
        name = field.name
        fpath = f"{path}.{name}" if path else name
        is_msg = field.type == field.TYPE_MESSAGE
        if _is_repeated(field):
            va, vb = getattr(a, name), getattr(b, name)
            for i in range(min(len(va), len(vb))):
                if is_msg:
                    d = first_difference(va[i], vb[i], f"{fpath}[{i}]{_label(va[i])}")
                    if d:
                        return d
                elif not _same_scalar(va[i], vb[i]):
                    return f"{fpath}[{i}]: {_describe(va[i], vb[i])}"
            if len(va) != len(vb):
                extra = va[len(vb)] if len(va) > len(vb) else vb[len(va)]
                what = _label(extra) if is_msg else _short(extra)
                return f"{fpath}: {len(va)} elements != {len(vb)} (first extra: [{min(len(va), len(vb))}]{what})"
            continue
        has_a = a.HasField(name) if field.has_presence else None
        has_b = b.HasField(name) if field.has_presence else None
        if has_a != has_b:
            return f"{fpath}: {'set' if has_a else 'absent'} != {'set' if has_b else 'absent'}"
        if is_msg:
            if has_a:
                d = first_difference(getattr(a, name), getattr(b, name), fpath)
                if d:
                    return d
        else:
            va, vb = getattr(a, name), getattr(b, name)
            if not _same_scalar(va, vb):
                return f"{fpath}: {_describe(va, vb)}"
    ua, ub = _unknown(a), _unknown(b)
    if ua != ub:
        na = [f[0] for f in ua]
        nb = [f[0] for f in ub]
        where = path or "<model>"
        return f"{where}: unknown fields differ (numbers {na} != {nb})"
    return None


def compare(original: str, written: str) -> str | None:
    """None when equal, else a reason."""
    a, b = load_pair(original, written)
    same_bytes = a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)
    if a == b and same_bytes:
        return None
    d = first_difference(a, b)
    if d is None:
        if same_bytes:
            return None  # e.g. NaN values, which == treats as different
        return "models differ but no field-level difference was found"
    return d


# --------------------------------------------------------------------------------------
# onnxruntime


_ORT_NUMPY = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int8)": np.int8, "tensor(int16)": np.int16, "tensor(int32)": np.int32,
    "tensor(int64)": np.int64, "tensor(uint8)": np.uint8, "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32, "tensor(uint64)": np.uint64, "tensor(bool)": np.bool_,
}


def run_ort(path: str, rng: np.random.Generator) -> str:
    """Create a session and maybe run it; returns a note, raises on failure."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 4  # fatal only: load errors are reported by the exception
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    feeds = {}
    for inp in sess.get_inputs():
        dtype = _ORT_NUMPY.get(inp.type)
        if dtype is None:
            return f"session created; not run (input {inp.name} has type {inp.type})"
        if inp.shape is None:
            return f"session created; not run (input {inp.name} has unknown rank)"
        shape = [d if isinstance(d, int) and d >= 0 else 1 for d in inp.shape]
        if np.issubdtype(dtype, np.floating):
            feeds[inp.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype is np.bool_:
            feeds[inp.name] = rng.integers(0, 2, size=shape).astype(bool)
        else:
            feeds[inp.name] = rng.integers(0, 2, size=shape).astype(dtype)
    sess.run(None, feeds)
    return "ran"


# --------------------------------------------------------------------------------------


def _reason(e: BaseException) -> str:
    text = str(e).strip().replace("\n", " ")
    if not text:
        text = type(e).__name__
    return text if len(text) <= 400 else text[:397] + "..."


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Check ONNX models with onnx.checker/onnxruntime and compare pairs.")
    ap.add_argument("--ort", action="store_true",
                    help="also load (and when possible run) each MODEL in onnxruntime")
    ap.add_argument("--no-ort", action="append", default=[], metavar="SUBSTRING",
                    help="skip onnxruntime for models whose path contains SUBSTRING "
                         "(repeatable)")
    ap.add_argument("--equal", action="append", default=[], metavar="ORIGINAL=WRITTEN",
                    help="compare two models for protobuf equality (repeatable)")
    ap.add_argument("--verbose", "-v", action="store_true", help="print a line per pass too")
    ap.add_argument("models", nargs="*", metavar="MODEL")
    args = ap.parse_intermixed_args(argv)

    pairs = []
    for spec in args.equal:
        if "=" not in spec:
            ap.error(f"--equal expects ORIGINAL=WRITTEN, got {spec!r}")
        # Split at the '=' that separates two existing files if the names contain '='.
        cut = [i for i, ch in enumerate(spec) if ch == "="]
        choice = next((i for i in cut if os.path.exists(spec[:i]) and os.path.exists(spec[i + 1:])),
                      cut[0])
        pairs.append((spec[:choice], spec[choice + 1:]))
    if not args.models and not pairs:
        ap.error("nothing to check: give MODEL paths and/or --equal pairs")

    rng = np.random.default_rng(0)
    passed = failed = 0

    def fail(path: str, reason: str) -> None:
        nonlocal failed
        failed += 1
        print(f"{path}: {reason}", flush=True)

    for path in args.models:
        step = "load"
        try:
            if not os.path.isfile(path):
                raise FileNotFoundError("no such file")
            onnx.load(path, load_external_data=True)
            step = "checker"
            onnx.checker.check_model(path, full_check=True)
            note = "checker ok"
            if args.ort:
                if any(s in path for s in args.no_ort):
                    note += "; onnxruntime skipped (--no-ort)"
                else:
                    step = "onnxruntime"
                    note += "; onnxruntime " + run_ort(path, rng)
        except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
            fail(path, f"{step} failed: {_reason(e)}")
            continue
        passed += 1
        if args.verbose:
            print(f"{path}: ok ({note})", flush=True)

    for original, written in pairs:
        label = f"{original}={written}"
        try:
            for p in (original, written):
                if not os.path.isfile(p):
                    raise FileNotFoundError(f"{p}: no such file")
            diff = compare(original, written)
        except Exception as e:  # noqa: BLE001
            fail(label, f"compare failed: {_reason(e)}")
            if os.environ.get("INTEROP_TRACEBACK"):
                traceback.print_exc()
            continue
        if diff is not None:
            fail(label, f"models differ at {diff}")
            continue
        passed += 1
        if args.verbose:
            print(f"{label}: ok (equal)", flush=True)

    print(f"interop: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
