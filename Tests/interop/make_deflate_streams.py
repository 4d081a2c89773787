#!/usr/bin/env python3
"""Write raw DEFLATE streams made by zlib, with what they inflate to, for the decoder tests.

Usage: PYTHON Tests/interop/make_deflate_streams.py OUT_DIR
For each case NAME: NAME.deflate (raw stream, no zlib header) and NAME.raw (the original bytes);
cases.txt lists one line per case: NAME SIZE CRC32 (decimal, zlib.crc32 of the original).
The cases cover zlib's levels 0 (stored blocks), 1 and 9, the fixed-Huffman, Huffman-only and
run-length strategies, and data from empty to several blocks: float arrays, random bytes,
repetitive text, long runs (overlapping back-references) and a skewed alphabet that needs codes
longer than the decoder's look-up table.
"""

import os
import sys
import zlib

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(11)

skewed = rng.geometric(0.35, 300_000).clip(1, 255).astype(np.uint8).tobytes()
data = {
    "empty": b"",
    "one": b"x",
    "floats": rng.standard_normal(100_000).astype(np.float32).tobytes(),
    "random": rng.integers(0, 256, 70_000, dtype=np.uint8).tobytes(),
    "text": b"".join(b"calibration sample %d of the fake-quant graph\n" % (i % 97) for i in range(4000)),
    "runs": b"\0" * 50_000 + b"ab" * 20_000 + bytes(range(256)) * 40,
    "skewed": skewed,
}
strategies = {
    "default": zlib.Z_DEFAULT_STRATEGY,
    "fixed": zlib.Z_FIXED,
    "huffman": zlib.Z_HUFFMAN_ONLY,
    "rle": zlib.Z_RLE,
}
lines = []
for name, payload in data.items():
    for level in (0, 1, 9):
        for strategy_name, strategy in strategies.items():
            if level == 0 and strategy_name != "default":
                continue
            compressor = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
            stream = compressor.compress(payload) + compressor.flush()
            case = f"{name}-{level}-{strategy_name}"
            with open(os.path.join(out, case + ".deflate"), "wb") as handle:
                handle.write(stream)
            with open(os.path.join(out, case + ".raw"), "wb") as handle:
                handle.write(payload)
            lines.append(f"{case} {len(payload)} {zlib.crc32(payload)}")
with open(os.path.join(out, "cases.txt"), "w") as handle:
    handle.write("\n".join(lines) + "\n")
