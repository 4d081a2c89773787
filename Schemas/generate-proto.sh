#!/usr/bin/env bash
# Regenerates the protobuf-c bridge from the onnx.proto that Debian's libonnx-dev installs.
# Usage: Schemas/generate-proto.sh [OUT_DIR]   (default: Sources/ONNXProto)
# The test ProtoBridgeTests.testCommittedCodeMatchesFreshGeneration runs this into a
# temporary folder and fails when the committed copy differs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/Sources/ONNXProto}"
proto_dir="${ONNX_PROTO_DIR:-/usr/include/onnx}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
protoc-c --c_out="$tmp" -I"$proto_dir" "$proto_dir/onnx.proto"
# protoc-c writes `#include "onnx.pb-c.h"`; SwiftPM wants public headers under include/.
mkdir -p "$out/include"
cp "$tmp/onnx.pb-c.c" "$out/onnx.pb-c.c"
cp "$tmp/onnx.pb-c.h" "$out/include/onnx.pb-c.h"
