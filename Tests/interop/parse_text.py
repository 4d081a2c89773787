#!/usr/bin/env python3
"""Check onnx-qat's text output with onnx.parser, ONNX's own reader of the text syntax.

Usage: PYTHON Tests/interop/parse_text.py [--full ORIGINAL.onnx=PRINTED.txt ...] [TEXT ...]

Every TEXT must parse with onnx.parser.parse_model. Each --full pair is text printed with
`onnx-qat print --full` from ORIGINAL: it must parse, and the parsed model must say what the
original says: the same opset imports, graph inputs/outputs (names), nodes (op type, domain,
name, inputs, outputs, attribute names and values, subgraphs recursively) and initializer
values (bit-exact, compared as arrays). Doc strings and other fields the syntax cannot hold
are not compared. Ends with `parse_text: N passed, M failed`.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import onnx
import onnx.parser
from onnx import numpy_helper


def array_of(tensor: onnx.TensorProto):
    return numpy_helper.to_array(tensor)


def same_array(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return a.tobytes() == b.tobytes()
    return bool(np.array_equal(a, b))


SUB_BYTE = {onnx.TensorProto.UINT4, onnx.TensorProto.INT4, onnx.TensorProto.FLOAT4E2M1,
            getattr(onnx.TensorProto, "UINT2", -1), getattr(onnx.TensorProto, "INT2", -1),
            getattr(onnx.TensorProto, "FLOAT6E2M3", -1), getattr(onnx.TensorProto, "FLOAT6E3M2", -1)}


def same_tensor(original: onnx.TensorProto, parsed: onnx.TensorProto) -> bool:
    """onnx.parser stores sub-byte literals one element per int32 (unpacked), while the spec
    and numpy_helper read int32_data of those types as packed bytes: compare element values."""
    count = int(np.prod(original.dims)) if original.dims else 1
    if parsed.data_type in SUB_BYTE and len(parsed.int32_data) == count and not parsed.raw_data:
        values = array_of(original).reshape(-1)
        if values.dtype.kind in "iu" or "int" in values.dtype.name:
            expected = values.astype(np.int64).tolist()
        else:  # float4/float6: compare bit patterns
            expected = [int(v) for v in values.view(np.uint8)]
        return expected == list(parsed.int32_data)
    return same_array(array_of(original), array_of(parsed))


def compare_attribute(x: onnx.AttributeProto, y: onnx.AttributeProto, where: str):
    if x.type != y.type:
        return f"{where}: attribute type {x.type} != {y.type}"
    if x.ref_attr_name != y.ref_attr_name:
        return f"{where}: ref_attr_name {x.ref_attr_name!r} != {y.ref_attr_name!r}"
    if x.ref_attr_name:
        return None
    kind = onnx.AttributeProto
    if x.type == kind.GRAPH:
        return compare_graph(x.g, y.g, where + ".g")
    if x.type == kind.GRAPHS:
        for i, (a, b) in enumerate(zip(x.graphs, y.graphs)):
            problem = compare_graph(a, b, f"{where}.graphs[{i}]")
            if problem:
                return problem
        return None if len(x.graphs) == len(y.graphs) else f"{where}: graph count differs"
    if x.type == kind.TENSOR:
        return None if same_tensor(x.t, y.t) else f"{where}: tensor values differ"
    if x.type == kind.TENSORS:
        same = len(x.tensors) == len(y.tensors) and all(
            same_tensor(a, b) for a, b in zip(x.tensors, y.tensors))
        return None if same else f"{where}: tensors differ"
    if x.type == kind.FLOAT:
        return None if np.float32(x.f).tobytes() == np.float32(y.f).tobytes() else f"{where}: {x.f} != {y.f}"
    if x.type == kind.FLOATS:
        same = np.array(x.floats, np.float32).tobytes() == np.array(y.floats, np.float32).tobytes()
        return None if same else f"{where}: floats differ"
    if x.type in (kind.INT, kind.INTS, kind.STRING, kind.STRINGS, kind.TYPE_PROTO, kind.TYPE_PROTOS):
        fields = {kind.INT: "i", kind.INTS: "ints", kind.STRING: "s", kind.STRINGS: "strings",
                  kind.TYPE_PROTO: "tp", kind.TYPE_PROTOS: "type_protos"}[x.type]
        return None if getattr(x, fields) == getattr(y, fields) else f"{where}: {fields} differ"
    return None  # sparse tensors are printed as comments only


def compare_nodes(xs, ys, where: str):
    if len(xs) != len(ys):
        return f"{where}: {len(xs)} nodes != {len(ys)}"
    for i, (x, y) in enumerate(zip(xs, ys)):
        at = f"{where}.node[{i}]<{x.name or x.op_type}>"
        for field in ("op_type", "domain", "name", "overload"):
            if getattr(x, field) != getattr(y, field):
                return f"{at}.{field}: {getattr(x, field)!r} != {getattr(y, field)!r}"
        if list(x.input) != list(y.input) or list(x.output) != list(y.output):
            return f"{at}: inputs/outputs {list(x.input)}->{list(x.output)} != {list(y.input)}->{list(y.output)}"
        printable = [a for a in x.attribute if a.type not in (onnx.AttributeProto.SPARSE_TENSOR, onnx.AttributeProto.SPARSE_TENSORS)]
        if [a.name for a in printable] != [a.name for a in y.attribute]:
            return f"{at}: attributes {[a.name for a in printable]} != {[a.name for a in y.attribute]}"
        for a, b in zip(printable, y.attribute):
            problem = compare_attribute(a, b, f"{at}.{a.name}")
            if problem:
                return problem
    return None


def compare_graph(x: onnx.GraphProto, y: onnx.GraphProto, where: str):
    if [v.name for v in x.input] != [v.name for v in y.input]:
        return f"{where}: inputs differ"
    if [v.name for v in x.output] != [v.name for v in y.output]:
        return f"{where}: outputs differ"
    for a, b in zip(list(x.input) + list(x.output), list(y.input) + list(y.output)):
        if a.HasField("type") and a.type != b.type:
            return f"{where}: type of {a.name} differs: {a.type} vs {b.type}"
    xi = {t.name: t for t in x.initializer}
    yi = {t.name: t for t in y.initializer}
    if set(xi) != set(yi):
        return f"{where}: initializers {sorted(set(xi) ^ set(yi))} differ"
    for name, tensor in xi.items():
        if not same_tensor(tensor, yi[name]):
            return f"{where}: initializer {name} values differ"
    return compare_nodes(x.node, y.node, where)


def compare_models(original: onnx.ModelProto, parsed: onnx.ModelProto):
    norm = lambda m: sorted((o.domain if o.domain != "ai.onnx" else "", o.version) for o in m.opset_import)
    if norm(original) != norm(parsed):
        return f"opset_import {norm(original)} != {norm(parsed)}"
    if original.ir_version != parsed.ir_version:
        return f"ir_version {original.ir_version} != {parsed.ir_version}"
    problem = compare_graph(original.graph, parsed.graph, "graph")
    if problem:
        return problem
    if len(original.functions) != len(parsed.functions):
        return "function count differs"
    for i, (f, g) in enumerate(zip(original.functions, parsed.functions)):
        if (f.name, f.domain, list(f.input), list(f.output), list(f.attribute)) != (
                g.name, g.domain, list(g.input), list(g.output), list(g.attribute)):
            return f"functions[{i}] signature differs"
        problem = compare_nodes(f.node, g.node, f"functions[{i}]")
        if problem:
            return problem
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="append", default=[])
    parser.add_argument("texts", nargs="*")
    args = parser.parse_intermixed_args()
    passed = failed = 0
    for path in args.texts:
        try:
            onnx.parser.parse_model(open(path, encoding="utf-8").read())
            passed += 1
        except Exception as error:  # noqa: BLE001 - report and go on
            failed += 1
            print(f"{path}: does not parse: {str(error)[:400]}")
    for pair in args.full:
        original_path, text_path = pair.split("=", 1)
        try:
            parsed = onnx.parser.parse_model(open(text_path, encoding="utf-8").read())
            problem = compare_models(onnx.load(original_path), parsed)
        except Exception as error:  # noqa: BLE001
            problem = f"does not parse: {str(error)[:400]}"
        if problem:
            failed += 1
            print(f"{text_path}: {problem}")
        else:
            passed += 1
    print(f"parse_text: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
