#!/usr/bin/env bash
# Builds the libFuzzer target Fuzz/LoaderFuzzer.swift (ASan + coverage) and runs it on the
# model loader.
#
#   FUZZ_SECONDS  how long to fuzz (default 60)
#   FUZZ_RUNS     stop after this many executions instead (optional)
#   FUZZ_KEEP_GOING=N  fork mode with N workers that go on past crashes, timeouts and OOMs
#                 (every finding is kept; the run still exits non-zero if there was one)
#   PYTHON        a python with onnx: its wheel's light models join the seed corpus
#                 (falls back to $ONNXQAT_PYTHON, which the Makefile exports)
#   SWIFTC, CLANG compilers (default: /opt/swift/usr/bin/*, else the ones on PATH)
#
# Everything is written under Fuzz/build/ (git-ignored): the fuzzer binary, seeds/ (rebuilt
# each run), corpus/ (kept between runs, grows), crashes/ (crash-*, leak-*, timeout-*, oom-*
# inputs) and fuzz.log. Exits non-zero if the build fails or libFuzzer finds a crash; each
# finding is then replayed and summarized (cause and first frames in Sources/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="$ROOT/Fuzz/build"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_RUNS="${FUZZ_RUNS:-}"
FUZZ_KEEP_GOING="${FUZZ_KEEP_GOING:-0}"

pick() { # pick NAME: $NAME from the environment, else /opt/swift/usr/bin/NAME, else PATH
  local tool="$1" override="$2"
  if [ -n "$override" ]; then echo "$override"
  elif [ -x "/opt/swift/usr/bin/$tool" ]; then echo "/opt/swift/usr/bin/$tool"
  else command -v "$tool" || { echo "run.sh: $tool not found" >&2; exit 2; }
  fi
}
SWIFTC="$(pick swiftc "${SWIFTC:-}")"
CLANG="$(pick clang "${CLANG:-}")"
SYMBOLIZER="$(dirname "$CLANG")/llvm-symbolizer"

mkdir -p "$BUILD/obj" "$BUILD/modules/ONNXProto" "$BUILD/crashes" "$BUILD/corpus"
FUZZER="$BUILD/loader-fuzzer"

# --- build (skipped when the binary is newer than every source) -----------------------------
SOURCES_C=(Sources/ONNXProto/*.c)
mapfile -t SOURCES_SWIFT < <(find Sources/ONNXQAT -name '*.swift' | sort)
stale=1
if [ -x "$FUZZER" ]; then
  stale=0
  for f in "${SOURCES_C[@]}" "${SOURCES_SWIFT[@]}" Sources/ONNXProto/include/*.h \
    Fuzz/LoaderFuzzer.swift Fuzz/run.sh; do
    if [ "$f" -nt "$FUZZER" ]; then stale=1; break; fi
  done
fi
if [ "$stale" = 1 ]; then
  echo "== building $FUZZER"
  # SwiftPM makes ONNXProto a Clang module from its include/ folder; outside SwiftPM we write
  # the module map ourselves. CProtobufC's module map is used as it is (-I Sources/CProtobufC).
  cat > "$BUILD/modules/ONNXProto/module.modulemap" <<EOF
module ONNXProto {
  header "$ROOT/Sources/ONNXProto/include/onnx.pb-c.h"
  header "$ROOT/Sources/ONNXProto/include/onnxqat_io.h"
  export *
}
EOF
  objects=()
  for c in "${SOURCES_C[@]}"; do
    o="$BUILD/obj/$(basename "$c" .c).o"
    "$CLANG" -c -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address \
      -I Sources/ONNXProto/include "$c" -o "$o"
    objects+=("$o")
  done
  SWIFT_FLAGS=(-O -g -swift-version 5 -sanitize=fuzzer,address
    -I "$BUILD/modules" -I "$BUILD/modules/ONNXProto" -I Sources/CProtobufC)
  "$SWIFTC" "${SWIFT_FLAGS[@]}" -parse-as-library -module-name ONNXQAT -wmo \
    -emit-module -emit-module-path "$BUILD/modules/ONNXQAT.swiftmodule" \
    -c "${SOURCES_SWIFT[@]}" -o "$BUILD/obj/ONNXQAT.o"
  objects+=("$BUILD/obj/ONNXQAT.o")
  "$SWIFTC" "${SWIFT_FLAGS[@]}" -parse-as-library -module-name LoaderFuzzer \
    Fuzz/LoaderFuzzer.swift "${objects[@]}" -lprotobuf-c -use-ld=lld -o "$FUZZER"
fi

# --- seed corpus ----------------------------------------------------------------------------
SEEDS="$BUILD/seeds"
rm -rf "$SEEDS"
mkdir -p "$SEEDS"
n=0
add_seed() { # add_seed FILE PREFIX
  local f="$1" name
  name="$2-$(basename "$f")"
  cp "$f" "$SEEDS/$name"
  n=$((n + 1))
}
for f in Fixtures/*.onnx; do [ -f "$f" ] && add_seed "$f" fixture; done
PY="${PYTHON:-${ONNXQAT_PYTHON:-}}"
if [ -n "$PY" ] && [ -x "$(command -v "$PY" 2>/dev/null || true)" ]; then
  if onnx_dir="$("$PY" -c 'import onnx,os;print(os.path.dirname(onnx.__file__))' 2>/dev/null)"; then
    for f in "$onnx_dir"/backend/test/data/light/*.onnx; do [ -f "$f" ] && add_seed "$f" light; done
  else
    echo "note: $PY has no onnx module; the light models are not seeded"
  fi
fi
# Truncated copies: the loader must refuse cut-off files cleanly.
for f in "$SEEDS"/*; do
  [ -f "$f" ] || continue
  size=$(stat -c %s "$f")
  for frac in 2 3 7; do
    cut=$((size * (frac - 1) / frac))
    [ "$cut" -gt 0 ] && head -c "$cut" "$f" > "$SEEDS/trunc$frac-$(basename "$f")"
  done
done
echo "== seeds: $n models + truncated copies ($(ls "$SEEDS" | wc -l) files) in $SEEDS"

# --- fuzz -----------------------------------------------------------------------------------
ARGS=(-max_len=1048576 -rss_limit_mb=4096 -timeout=10 -print_final_stats=1
  -artifact_prefix="$BUILD/crashes/")
if [ -n "$FUZZ_RUNS" ]; then ARGS+=(-runs="$FUZZ_RUNS"); else ARGS+=(-max_total_time="$FUZZ_SECONDS"); fi
if [ "$FUZZ_KEEP_GOING" -gt 0 ]; then
  ARGS+=(-fork="$FUZZ_KEEP_GOING" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}"
# Let libFuzzer and ASan handle traps: the Swift runtime's own backtracer reads memory that ASan
# has poisoned and reports a bogus use-after-free of its own instead of the real failure.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
[ -x "$SYMBOLIZER" ] && export ASAN_SYMBOLIZER_PATH="$SYMBOLIZER"
DEMANGLE="$(dirname "$SWIFTC")/swift-demangle"
[ -x "$DEMANGLE" ] || DEMANGLE="$(command -v swift-demangle || echo cat)"
demangle() { if [ "$DEMANGLE" = cat ]; then cat; else "$DEMANGLE" --simplified; fi; }

LOG="$BUILD/fuzz.log"
marker="$(mktemp "$BUILD/.started-XXXXXX")" # artifacts newer than this one are from this run
echo "== $FUZZER ${ARGS[*]} corpus seeds  (log: $LOG)"
set +e
"$FUZZER" "${ARGS[@]}" "$BUILD/corpus" "$SEEDS" > "$LOG" 2>&1
status=$?
set -e
mapfile -t found < <(find "$BUILD/crashes" -type f -newer "$marker" | sort)
rm -f "$marker"

# Final stats: "Done N runs in S second(s)" and stat::* (fork mode: its last "#N: cov:" line).
grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb)' "$LOG" ||
  grep -E '^#[0-9]+: cov:' "$LOG" | tail -n 1 || true
if [ "$status" = 0 ] && [ "${#found[@]}" = 0 ]; then
  echo "== no crash"
  exit 0
fi

echo "== libFuzzer exited with $status; ${#found[@]} finding(s) in $BUILD/crashes (log: $LOG)"
grep -E '^(==[0-9]+==( ERROR|ERROR)|SUMMARY:|Test unit written to)' "$LOG" | head -n 20 || true
# One line of cause and the first frames in our sources for each artifact, replayed.
for f in "${found[@]:0:20}"; do
  echo "-- $f ($(stat -c %s "$f") bytes)"
  "$FUZZER" "$f" 2>&1 | demangle |
    grep -E 'Swift runtime failure|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|/Sources/ONNXQAT/|/Sources/ONNXProto/' |
    sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ in /    /' | awk '!seen[$0]++' | head -n 6 || true
done
exit 1
