#!/usr/bin/env python3
"""Print the absolute paths of the ONNX models that ship inside the installed onnx wheel.

Usage: PYTHON Tests/interop/light_models.py [--all]

Without options: ONNX's "light" models, onnx/backend/test/data/light/*.onnx (IR 3,
opset 9, initializers also listed as graph inputs, weights made by ConstantOfShape).
With --all: every *.onnx under onnx/backend/test/data/ (node tests, simple, pytorch-*,
real, light), sorted.
Exits 1 when nothing is found.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys


def data_dir() -> str:
    import onnx

    return os.path.join(os.path.dirname(os.path.abspath(onnx.__file__)), "backend", "test", "data")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--all", action="store_true",
                    help="every *.onnx under onnx/backend/test/data/, not just light/")
    args = ap.parse_args(argv)
    root = data_dir()
    pattern = os.path.join(root, "**", "*.onnx") if args.all else os.path.join(root, "light", "*.onnx")
    paths = sorted(glob.glob(pattern, recursive=args.all))
    for p in paths:
        print(os.path.abspath(p))
    if not paths:
        print(f"light_models: no .onnx files under {root}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
