"""A Python client of libonnxqat through ctypes.

    python onnxqat_ctypes_client.py PREFIX MODEL CALIB WORKDIR SCHEMAS

Loads PREFIX/lib/libonnxqat.so, runs fold, insert and lower on MODEL through the buffer forms
(bytes in, bytes out) and verify through the path form, validates every report against its
JSON Schema (jsonschema), checks the output models with onnx.checker (full_check) and loads
them in onnxruntime, then checks the error path (a corrupt model: non-zero status, a JSON
error naming the problem, and the process goes on), and runs four independent inserts on four
threads at once. Prints "client ok" and exits 0 when all hold.
"""

import ctypes
import json
import os
import sys
import threading

import jsonschema
import onnx
import onnxruntime

PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)
BUFFER_ARGS = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t),
               ctypes.c_char_p, PROGRESS, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
OK, BAD_INPUT, CANCELLED = 0, 2, 3


class Library:
    """The C ABI, typed."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.lib.onnxqat_version.restype = ctypes.c_char_p
        self.lib.onnxqat_free.argtypes = [ctypes.c_void_p]
        for verb in ["fold", "insert", "lower", "convert"]:
            function = getattr(self.lib, "onnxqat_%s_buffer" % verb)
            function.argtypes = BUFFER_ARGS
            function.restype = ctypes.c_int
        self.lib.onnxqat_verify.argtypes = [ctypes.c_char_p] * 4 + [PROGRESS, ctypes.c_void_p,
                                                                   ctypes.POINTER(ctypes.c_void_p)]
        self.lib.onnxqat_verify.restype = ctypes.c_int

    def version(self):
        return self.lib.onnxqat_version().decode()

    def _report(self, pointer):
        text = ctypes.string_at(pointer.value).decode() if pointer.value else None
        self.lib.onnxqat_free(pointer)
        return json.loads(text) if text is not None else None

    def buffer(self, verb, model, options=None, progress=None):
        """Runs VERB on MODEL's bytes: (status, report, output bytes or None)."""
        output, size, report = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_void_p()
        callback = PROGRESS(progress) if progress else PROGRESS()
        status = getattr(self.lib, "onnxqat_%s_buffer" % verb)(
            model, len(model), ctypes.byref(output), ctypes.byref(size),
            json.dumps(options).encode() if options is not None else None, callback, None, ctypes.byref(report))
        data = ctypes.string_at(output.value, size.value) if output.value else None
        self.lib.onnxqat_free(output)
        return status, self._report(report), data

    def verify(self, qdq, integer, float_model, options):
        report = ctypes.c_void_p()
        status = self.lib.onnxqat_verify(qdq.encode(), integer.encode(), float_model.encode(),
                                         json.dumps(options).encode(), PROGRESS(), None, ctypes.byref(report))
        return status, self._report(report)


def main():
    prefix, model_path, calib, workdir, schemas = sys.argv[1:6]
    library = Library(os.path.join(prefix, "lib", "libonnxqat.so"))
    failures = []

    def check(condition, what, detail=None):
        if not condition:
            failures.append("%s: %s" % (what, json.dumps(detail)[:2000] if detail is not None else ""))

    def schema(name):
        with open(os.path.join(schemas, name)) as file:
            return json.load(file)

    def valid(report, name):
        try:
            jsonschema.validate(report, schema(name))
            return True
        except jsonschema.ValidationError as error:
            failures.append("%s does not match %s: %s" % (report, name, error.message))
            return False

    def check_model(data, name):
        model = onnx.load_from_string(data)
        onnx.checker.check_model(model, full_check=True)
        path = os.path.join(workdir, name)
        with open(path, "wb") as file:
            file.write(data)
        onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        return path

    check(library.version().count(".") == 2, "version is MAJOR.MINOR.PATCH", library.version())
    with open(model_path, "rb") as file:
        original = file.read()

    status, report, folded = library.buffer("fold", original)
    check(status == OK and folded, "fold_buffer succeeds", report)
    valid(report, "fold-report.schema.json")
    check_model(folded, "folded.onnx")

    stages = []
    status, report, qdq = library.buffer(
        "insert", folded, {"calib": calib, "method": "minmax", "exclude": []},
        progress=lambda stage, done, total, user: stages.append(stage.decode()) or 0)
    check(status == OK and qdq, "insert_buffer succeeds", report)
    valid(report, "report.schema.json")
    check(report["verb"] == "insert" and report["tensors"], "the insert report lists its tensors", report)
    check("calibrate" in stages, "insert reports calibration progress", stages)
    qdq_path = check_model(qdq, "qdq.onnx")

    status, report, integer = library.buffer("lower", qdq, {"int-io": False})
    check(status == OK and integer, "lower_buffer succeeds", report)
    valid(report, "lower-report.schema.json")
    check(any(item["rule"] == "Conv -> QLinearConv" for item in report["lowered"]), "lower makes QLinearConv", report)
    int_path = check_model(integer, "int.onnx")

    status, report, converted = library.buffer("convert", integer)
    check(status == OK and converted == integer, "convert_buffer gives back the same bytes", report)
    valid(report, "convert.schema.json")

    status, report = library.verify(qdq_path, int_path, model_path, {"calib": calib, "samples": 2})
    check(status == OK, "verify succeeds", report)
    valid(report, "verify.schema.json")

    # The error path: a corrupt model, then bad options; the process goes on.
    status, report, data = library.buffer("fold", b"\x08\x07garbage that is not ONNX")
    check(status == BAD_INPUT and data is None, "a corrupt model is bad input", report)
    valid(report, "error.schema.json")
    check("not a valid ONNX model" in report["error"]["message"], "the error names the problem", report)
    status, report, _ = library.buffer("insert", folded, {"calib": calib, "method": "magic"})
    check(status == BAD_INPUT and "'method' must be" in report["error"]["message"], "a bad value is named", report)
    valid(report, "error.schema.json")
    status, report, _ = library.buffer("insert", folded, {"calib": calib}, progress=lambda *args: 1)
    check(status == CANCELLED and report["error"]["kind"] == "cancelled", "a callback cancels", report)
    valid(report, "error.schema.json")

    # Independent models on several threads at once (ctypes releases the GIL during calls).
    results = [None] * 4

    def worker(index):
        results[index] = library.buffer("insert", folded, {"calib": calib, "calib-samples": 2 + index})

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, (status, report, data) in enumerate(results):
        check(status == OK and data, "thread %d's insert succeeds" % index, report)
        check(report["samples"] == 2 + index, "thread %d calibrated on its own sample count" % index, report)
        check_model(data, "thread%d.onnx" % index)

    status, report, data = library.buffer("lower", qdq)
    check(status == OK and data == integer, "lower after the errors gives the same model", report)

    if failures:
        print("\n".join(failures), file=sys.stderr)
        return 1
    print("client ok (libonnxqat %s)" % library.version())
    return 0


if __name__ == "__main__":
    sys.exit(main())
