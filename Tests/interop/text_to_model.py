#!/usr/bin/env python3
"""Turn ONNX text syntax into a model file with onnx.parser, for tests written as ONNX text.

Usage: PYTHON Tests/interop/text_to_model.py OUT.onnx [--ir-version N] < MODEL.txt

The text is parsed with onnx.parser.parse_model; the IR version is set (default 8, which every
onnxruntime we use accepts); the model is checked with onnx.checker.check_model(full_check=True)
before it is written. Exit 1 with the parser's or checker's message on failure.
"""

from __future__ import annotations

import argparse
import sys

import onnx
import onnx.checker
import onnx.parser


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("--ir-version", type=int, default=8)
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args()
    text = sys.stdin.read()
    try:
        model = onnx.parser.parse_model(text)
        model.ir_version = args.ir_version
        if not args.no_check:
            onnx.checker.check_model(model, full_check=True)
    except Exception as error:  # the parser and checker raise several types
        print(f"text_to_model: {error}", file=sys.stderr)
        return 1
    onnx.save(model, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
