#!/usr/bin/env python3
"""Calibration cross-checks against onnxruntime's own calibrators and exact NumPy statistics.

Usage:
  PYTHON Tests/interop/ort_calibration.py samples OUT_DIR --count N --shape 4,256 [--kind K]
      [--layout npz|test-data] [--input x] [--seed S] [--dtype float32]
    Writes N deterministic samples for a model with one float input: one OUT_DIR/sample_NNNN.npz
    per sample (member = input name; odd samples compressed), or OUT_DIR/test_data_set_N/input_0.pb. K: gauss-outliers
    (standard normal; samples 5, 15, 25, ... also hold +-20 and +-30), laplace, uniform. --dtype
    writes another element type (for bad-input tests).
  PYTHON Tests/interop/ort_calibration.py calibrate MODEL SAMPLES_DIR [--percentile P]
      [--averaging-constant C]
    Runs onnxruntime.quantization.calibrate's MinMax, Percentile, Entropy and Distribution
    calibrators on MODEL with the .npz samples in SAMPLES_DIR (sorted by name) and prints JSON:
    {"ort": {config: {tensor: [low, high] or {...}}}, "exact": {tensor: {...}}}, where "exact"
    holds NumPy statistics of every calibrated tensor over all samples (min, max, the exponential
    moving average of per-sample min/max, percentiles as the smallest value whose cumulative count
    reaches the fraction, mean, std), computed from onnxruntime's
    own activations.
"""

import argparse
import contextlib
import json
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from onnxruntime.quantization import calibrate


def make_samples(args):
    os.makedirs(args.out, exist_ok=True)
    shape = tuple(int(d) for d in args.shape.split(","))
    rng = np.random.default_rng(args.seed)
    for index in range(args.count):
        if args.kind == "gauss-outliers":
            data = rng.standard_normal(shape)
            if index % 10 == 5:
                flat = data.reshape(-1)
                positions = rng.choice(flat.size, 4, replace=False)
                flat[positions] = [20.0, -20.0, 30.0, -30.0]
        elif args.kind == "laplace":
            data = rng.laplace(0.0, 1.0, shape)
        elif args.kind == "uniform":
            data = rng.uniform(-1.0, 1.0, shape)
        else:
            sys.exit(f"unknown kind {args.kind}")
        data = data.astype(np.dtype(args.dtype))
        if args.layout == "npz":
            # Odd samples deflated (savez_compressed), even ones stored (savez).
            save = np.savez_compressed if index % 2 else np.savez
            save(os.path.join(args.out, f"sample_{index:04d}.npz"), **{args.input: data})
        else:
            folder = os.path.join(args.out, f"test_data_set_{index}")
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "input_0.pb"), "wb") as handle:
                handle.write(numpy_helper.from_array(data, args.input).SerializeToString())
    print("ok")


class FolderReader(calibrate.CalibrationDataReader):
    def __init__(self, folder):
        self.files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".npz"))
        self.position = 0

    def get_next(self):
        if self.position >= len(self.files):
            return None
        with np.load(self.files[self.position]) as archive:
            sample = {key: archive[key] for key in archive.files}
        self.position += 1
        return sample


def to_float(value):
    flat = np.asarray(value, dtype=np.float64).reshape(-1)
    assert flat.size == 1, f"expected one value, got {flat.size}"
    return float(flat[0])


def run_calibrator(model, folder, method, extra):
    with tempfile.TemporaryDirectory() as work, contextlib.redirect_stdout(sys.stderr):
        calibrator = calibrate.create_calibrator(
            model,
            augmented_model_path=os.path.join(work, "augmented.onnx"),
            calibrate_method=method,
            extra_options=extra,
        )
        calibrator.collect_data(FolderReader(folder))
        data = calibrator.compute_data()
        result = {}
        for name, value in data.items():
            if isinstance(value, calibrate.TensorData):
                entry = {"range": [to_float(value.range_value[0]), to_float(value.range_value[1])]}
                if hasattr(value, "avg"):
                    entry["avg"] = to_float(value.avg)
                    entry["std"] = to_float(value.std)
                result[name] = entry
            else:
                result[name] = [to_float(value[0]), to_float(value[1])]
        return result


def exact_statistics(model_path, folder, percentile, constant):
    """Every float tensor's values per sample, from onnxruntime with all values as outputs."""
    model = onnx.shape_inference.infer_shapes(onnx.load(model_path))
    names = [vi.name for vi in list(model.graph.input) + list(model.graph.value_info) + list(model.graph.output)
             if vi.type.tensor_type.elem_type == onnx.TensorProto.FLOAT]
    existing = {o.name for o in model.graph.output}
    for vi in model.graph.value_info:
        if vi.name not in existing:
            model.graph.output.append(vi)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    per_tensor = {name: [] for name in names}
    reader = FolderReader(folder)
    while (sample := reader.get_next()) is not None:
        values = dict(zip(outputs, session.run(None, sample)))
        values.update(sample)
        for name in names:
            per_tensor[name].append(np.asarray(values[name], dtype=np.float32).reshape(-1))
    result = {}
    for name, samples in per_tensor.items():
        every = np.concatenate(samples).astype(np.float64)
        low = high = None
        for s in samples:
            if low is None:
                low, high = float(s.min()), float(s.max())
            else:
                low += constant * (float(s.min()) - low)
                high += constant * (float(s.max()) - high)
        tail = (100.0 - percentile) / 2.0
        result[name] = {
            "min": float(every.min()),
            "max": float(every.max()),
            "ema": [low, high],
            # inverted_cdf: the smallest value whose cumulative count reaches the fraction.
            "percentile_abs": float(np.percentile(np.abs(every), percentile, method="inverted_cdf")),
            "percentile_low": float(np.percentile(every, tail, method="inverted_cdf")),
            "percentile_high": float(np.percentile(every, 100.0 - tail, method="inverted_cdf")),
            "mean": float(every.mean()),
            "std": float(every.std()),
            "count": int(every.size),
        }
    return result


def run_all(args):
    model = args.model
    method = calibrate.CalibrationMethod
    configs = {
        "minmax": (method.MinMax, {"symmetric": False}),
        "minmax_symmetric": (method.MinMax, {"symmetric": True}),
        "percentile_symmetric": (method.Percentile, {"symmetric": True, "percentile": args.percentile}),
        "percentile": (method.Percentile, {"symmetric": False, "percentile": args.percentile}),
        "entropy": (method.Entropy, {"symmetric": False, "num_bins": 2048, "num_quantized_bins": 256}),
        "distribution": (method.Distribution, {"num_bins": 2048}),
    }
    result = {"ort": {}, "exact": exact_statistics(model, args.samples, args.percentile, args.averaging_constant)}
    for key, (calibration_method, extra) in configs.items():
        result["ort"][key] = run_calibrator(model, args.samples, calibration_method, extra)
    print(json.dumps(result, indent=1, sort_keys=True))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    samples = sub.add_parser("samples")
    samples.add_argument("out")
    samples.add_argument("--count", type=int, required=True)
    samples.add_argument("--shape", required=True)
    samples.add_argument("--kind", default="gauss-outliers")
    samples.add_argument("--layout", default="npz", choices=["npz", "test-data"])
    samples.add_argument("--input", default="x")
    samples.add_argument("--seed", type=int, default=11)
    samples.add_argument("--dtype", default="float32")
    run = sub.add_parser("calibrate")
    run.add_argument("model")
    run.add_argument("samples")
    run.add_argument("--percentile", type=float, default=99.999)
    run.add_argument("--averaging-constant", type=float, default=0.01)
    args = parser.parse_args()
    if args.command == "samples":
        make_samples(args)
    else:
        run_all(args)


if __name__ == "__main__":
    main()
