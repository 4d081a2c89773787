#!/usr/bin/env python3
"""Write NumPy files for the executor's input tests into OUT_DIR, each with the same array as
an ONNX TensorProto (`NAME.pb`) so the test can compare what it read with what NumPy wrote.

Usage: PYTHON Tests/interop/make_numpy_files.py OUT_DIR
Good files: f32.npy, f64.npy, f16.npy, i8.npy, u8.npy, i64.npy, bool.npy, scalar.npy, v2.npy
(format 2.0), stored.npz (savez: x, y), deflated.npz (savez_compressed: x, y, z, large enough for
dynamic Huffman blocks), each member also as <archive>.<member>.pb.
Bad files: fortran.npy, bigendian.npy, object.npy, truncated.npy, corrupt.npz (CRC mismatch),
notzip.npz.
"""

import os
import sys

import numpy as np
from numpy.lib import format as npformat
from onnx import numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)


def save(name, array):
    np.save(os.path.join(out, name + ".npy"), array)
    with open(os.path.join(out, name + ".pb"), "wb") as handle:
        handle.write(numpy_helper.from_array(array if array.ndim == 0 else np.ascontiguousarray(array), name).SerializeToString())


save("f32", rng.standard_normal((2, 3, 4)).astype(np.float32))
save("f64", rng.standard_normal((5,)))
save("f16", rng.standard_normal((3, 3)).astype(np.float16))
save("i8", rng.integers(-128, 128, (4, 4), dtype=np.int8))
save("u8", rng.integers(0, 256, (7,), dtype=np.uint8))
save("i64", rng.integers(-2**40, 2**40, (2, 2), dtype=np.int64))
save("bool", rng.integers(0, 2, (3, 2)).astype(bool))
save("scalar", np.array(3.5, dtype=np.float32))
with open(os.path.join(out, "v2.npy"), "wb") as handle:
    array = np.arange(6, dtype=np.int32).reshape(2, 3)
    npformat.write_array(handle, array, version=(2, 0))
    with open(os.path.join(out, "v2.pb"), "wb") as proto:
        proto.write(numpy_helper.from_array(array, "v2").SerializeToString())

members = {"x": rng.standard_normal((3, 4)).astype(np.float32), "y": np.arange(10, dtype=np.int64)}
np.savez(os.path.join(out, "stored.npz"), **members)
compressed = dict(members, z=np.tile(np.arange(1000, dtype=np.float32) % 17, 50).reshape(50, 1000))
np.savez_compressed(os.path.join(out, "deflated.npz"), **compressed)
for archive, content in (("stored", members), ("deflated", compressed)):
    for key, array in content.items():
        with open(os.path.join(out, f"{archive}.{key}.pb"), "wb") as handle:
            handle.write(numpy_helper.from_array(array, key).SerializeToString())

np.save(os.path.join(out, "fortran.npy"), np.asfortranarray(rng.standard_normal((3, 4)).astype(np.float32)))
np.save(os.path.join(out, "bigendian.npy"), np.arange(4, dtype=">f4"))
np.save(os.path.join(out, "object.npy"), np.array([1, "a"], dtype=object), allow_pickle=True)
data = open(os.path.join(out, "f32.npy"), "rb").read()
open(os.path.join(out, "truncated.npy"), "wb").write(data[:-10])
archive = bytearray(open(os.path.join(out, "deflated.npz"), "rb").read())
archive[len(archive) // 2] ^= 0xFF
open(os.path.join(out, "corrupt.npz"), "wb").write(bytes(archive))
open(os.path.join(out, "notzip.npz"), "wb").write(b"this is not a zip archive at all, sorry")
print("ok")
