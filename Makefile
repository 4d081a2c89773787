# onnx-qat: set-up, build, tests, demo and benchmarks. Every target installs what it needs.
SWIFT        ?= swift
PREFIX       ?= /usr/local
VENV         := .build/venv
PYTHON       := $(VENV)/bin/python
APT_PACKAGES := libprotobuf-c-dev libonnx-dev protobuf-c-compiler pkg-config cmake
PIP_PACKAGES := onnx==1.23.2 onnxruntime==1.32.0 numpy jsonschema scikit-learn==1.9.1
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN          := .build/debug/onnx-qat
RELEASE_BIN  := .build/release/onnx-qat
# Release builds use AVX2+FMA (the GEMM's 6x16 FMA tile) when this CPU has them; the binary then
# needs an AVX2 CPU. RELEASE_FLAGS= (empty) builds a portable binary.
RELEASE_FLAGS ?= $(shell grep -q avx2 /proc/cpuinfo 2>/dev/null && grep -q fma /proc/cpuinfo 2>/dev/null && \
  echo "-Xswiftc -Xcc -Xswiftc -mavx2 -Xswiftc -Xcc -Xswiftc -mfma -Xswiftc -DONNXQAT_AVX2")

export ONNXQAT_PYTHON := $(abspath $(PYTHON))

.PHONY: all deps apt venv build release test test-release demo bench fuzz lint goldens proto clean install uninstall

all: build

## deps: Debian packages and the Python venv for interop checks.
deps: apt venv

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: Makefile
	@mkdir -p .build
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check $(PIP_PACKAGES)
	@touch $@

build: apt
	$(SWIFT) build

release: apt
	$(SWIFT) build -c release $(RELEASE_FLAGS)
	$(SWIFT) build -c release $(RELEASE_FLAGS) --product onnxqat

## test: every test (unit, golden, corpus, interop with onnx and onnxruntime), then the
## numeric ones again on a release build (test-release).
test: deps build release
	$(SWIFT) test --disable-swift-testing
	$(MAKE) test-release

## test-release: the kernel, convolution, conformance and interop tests on a release build with
## RELEASE_FLAGS, whose float GEMM is the C macro-kernel with 16-column slivers and whose
## convolutions take the AVX-512 im2col kernels, none of which a debug build runs
## (its own build folder, so the release tool of `make release` is left as it is).
RELEASE_TESTS := Conv|Conformance|Depthwise|GEMM|Gemm|Im2col|QLinear|Integer|Requant|Int8|Interop|Executor|RunCommand|ONNXQATSession|MatMul|Pool|Epilogue|Fused
test-release: deps
	$(SWIFT) build -c release --build-tests --scratch-path .build/release-tests -Xswiftc -enable-testing $(RELEASE_FLAGS)
	$(SWIFT) test -c release --skip-build --scratch-path .build/release-tests --disable-swift-testing \
	  --filter '$(RELEASE_TESTS)'

## demo: fold, insert (calibrated on real samples), lower and verify a trained CNN from Fixtures/digits.
demo: apt build
	@mkdir -p .build/demo
	$(BIN) inspect Fixtures/digits/digits_cnn.onnx
	$(BIN) fold Fixtures/digits/digits_cnn.onnx -o .build/demo/digits_folded.onnx
	$(BIN) insert Fixtures/digits/digits_cnn.onnx -o .build/demo/digits_qdq.onnx --calib Fixtures/digits/calib
	$(BIN) lower .build/demo/digits_qdq.onnx -o .build/demo/digits_int.onnx
	$(BIN) verify --qdq .build/demo/digits_qdq.onnx --int .build/demo/digits_int.onnx \
	  --float Fixtures/digits/digits_cnn.onnx --data Fixtures/digits/calib
	$(BIN) print .build/demo/digits_int.onnx

## bench: load+save of a ~500 MB model and of 1k-100k-node chains against Python's onnx; the
## executor against onnxruntime; insert against onnxruntime's quantize_static, and fold/insert on
## 1k, 10k and 100k-node graphs; lower against onnxruntime's QDQ fusion.
bench: deps release
	$(PYTHON) Benchmarks/bench_roundtrip.py --onnx-qat $(RELEASE_BIN)
	$(PYTHON) Benchmarks/bench_roundtrip.py --onnx-qat $(RELEASE_BIN) --nodes 1000,10000,100000 --qdq
	$(PYTHON) Benchmarks/bench_executor.py --onnx-qat $(RELEASE_BIN)
	$(PYTHON) Benchmarks/bench_insert.py --onnx-qat $(RELEASE_BIN)
	$(PYTHON) Benchmarks/bench_lower.py --onnx-qat $(RELEASE_BIN)

## fuzz: libFuzzer on the loader (FUZZ_SECONDS, default 60).
fuzz: apt
	bash Fuzz/run.sh

## lint: swift format lint over Sources and Tests.
lint:
	$(SWIFT) format lint --strict --recursive Sources/ONNXQAT Sources/ONNXQATC Sources/onnx-qat Tests

## goldens: re-record Fixtures/golden (the run fails so nothing changes silently; rerun make test).
goldens: deps build
	RECORD_GOLDENS=1 $(SWIFT) test --filter GoldenTests || true

## proto: regenerate the protobuf-c bridge from libonnx-dev's onnx.proto.
proto: apt
	Schemas/generate-proto.sh

## fixtures: rebuild the fixture models from Fixtures/generate.py.
fixtures: venv
	$(PYTHON) Fixtures/generate.py
	$(PYTHON) Fixtures/digits/generate.py

## install: the release onnx-qat, libonnxqat.so, onnxqat.h and onnxqat.pc under $(DESTDIR)$(PREFIX)
## (bin/, lib/, include/, lib/pkgconfig/). INSTALL_BUILD=no installs what .build/release holds without
## building it first. uninstall: removes exactly those four files.
INSTALL_BUILD ?= yes
INSTALL_FILES := bin/onnx-qat lib/libonnxqat.so include/onnxqat.h lib/pkgconfig/onnxqat.pc
install:
	@if [ "$(INSTALL_BUILD)" = yes ]; then $(MAKE) --no-print-directory apt && \
	  $(SWIFT) build -c release $(RELEASE_FLAGS) --product onnx-qat && \
	  $(SWIFT) build -c release $(RELEASE_FLAGS) --product onnxqat; fi
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 .build/release/onnx-qat $(DESTDIR)$(PREFIX)/bin/onnx-qat
	install -m 755 .build/release/libonnxqat.so $(DESTDIR)$(PREFIX)/lib/libonnxqat.so
	install -m 644 Sources/ONNXQATC/onnxqat.h $(DESTDIR)$(PREFIX)/include/onnxqat.h
	@version=$$(sed -n 's/.*string = "\(.*\)".*/\1/p' Sources/ONNXQAT/Version.swift); \
	printf '%s\n' 'prefix=$(PREFIX)' 'exec_prefix=$${prefix}' 'libdir=$${exec_prefix}/lib' \
	  'includedir=$${prefix}/include' '' 'Name: onnxqat' \
	  'Description: onnx-qat: ONNX quantization-aware training to integer-only graphs (C ABI)' \
	  "Version: $$version" 'Requires.private: libprotobuf-c' \
	  'Libs: -L$${libdir} -Wl,-rpath,$${libdir} -lonnxqat' 'Cflags: -I$${includedir}' \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/onnxqat.pc
	@echo "installed $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALL_FILES))"

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALL_FILES))

clean:
	rm -rf .build
