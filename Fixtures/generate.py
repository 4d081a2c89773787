#!/usr/bin/env python3
"""Deterministic generator for the onnx-qat fixture models.

Usage: PYTHON Fixtures/generate.py [OUT_DIR]     (default: the folder of this script)

Needs the Python packages onnx (1.23.x) and numpy; onnxruntime is optional and only used
to report which fixtures it can load. Every model sets `ir_version` explicitly (onnx 1.23
writes IR 14 by default) and passes `onnx.checker.check_model(m, full_check=True)`.
Random weights come from a fixed numpy seed, so re-running the script reproduces the
committed files byte for byte.

Fixtures (see each builder for details):
  tiny_cnn.onnx              demo CNN, opset 13, symbolic batch
  control_flow.onnx          If (captures an outer value), Loop, Scan; opset 13
  local_function.onnx        model-local FunctionProto in domain "local", ref_attr_name
  all_dtypes.onnx            one initializer per TensorProto data type (typed and raw);
                             onnxruntime cannot load it (see build_all_dtypes)
  sparse_and_metadata.onnx   sparse_initializer, value_info, doc strings, metadata,
                             quantization_annotation, model_version, domain
  training_info.onnx         TrainingInfoProto with initialization/algorithm graphs
  newer_fields.onnx          fields newer than the onnx 1.12 schema (unknown to it)
  qdq_conv.onnx              QDQ fake-quant Conv, per-channel int8 weights, opset 13
  external/model_external.onnx (+ model_external.onnx.data)  initializers in external data
"""

from __future__ import annotations

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PRODUCER = "onnx-qat fixtures"
PRODUCER_VERSION = "1"
SEED = 20240601

# IR versions by opset (onnx.helper.VERSION_TABLE): opset 13 -> IR 7, 15-17 -> IR 8,
# 21 -> IR 10, 23 -> IR 11, 25 -> IR 13. IR 8 is the oldest that every feature used by
# the opset-13 fixtures needs (model-local functions need IR >= 8).
IR_OPSET13 = 8


def _rng(salt: int) -> np.random.Generator:
    """A generator per fixture, so adding a fixture never changes the others."""
    return np.random.default_rng([SEED, salt])


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _init(name: str, array: np.ndarray) -> TensorProto:
    return numpy_helper.from_array(np.ascontiguousarray(array), name)


def _model(graph, opsets, ir_version, **kw) -> onnx.ModelProto:
    m = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(d, v) for d, v in opsets],
        producer_name=PRODUCER,
        producer_version=PRODUCER_VERSION,
        **kw,
    )
    m.ir_version = ir_version
    return m


def _meta(model_or_list, pairs) -> None:
    for k, v in pairs:
        e = model_or_list.add()
        e.key, e.value = k, v


# --------------------------------------------------------------------------------------
# tiny_cnn.onnx


def build_tiny_cnn() -> onnx.ModelProto:
    rng = _rng(1)

    def he(shape):
        fan_in = int(np.prod(shape[1:]))
        return _f32(rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape))

    def bn(prefix, c):
        return [
            _init(f"{prefix}.weight", _f32(rng.uniform(0.8, 1.2, size=c))),
            _init(f"{prefix}.bias", _f32(rng.normal(0.0, 0.1, size=c))),
            _init(f"{prefix}.running_mean", _f32(rng.normal(0.0, 0.2, size=c))),
            _init(f"{prefix}.running_var", _f32(rng.uniform(0.5, 1.5, size=c))),
        ]

    inits = [
        _init("conv1.weight", he((8, 3, 3, 3))),
        _init("conv1.bias", _f32(rng.normal(0.0, 0.05, size=8))),
        *bn("bn1", 8),
        _init("conv2.weight", he((16, 8, 3, 3))),
        *bn("bn2", 16),
        _init("conv3.weight", he((16, 16, 1, 1))),
        _init("conv3.bias", _f32(rng.normal(0.0, 0.05, size=16))),
        _init("fc.weight", _f32(rng.normal(0.0, np.sqrt(1.0 / 16), size=(10, 16)))),
        _init("fc.bias", _f32(rng.normal(0.0, 0.01, size=10))),
    ]
    n = helper.make_node
    nodes = [
        n("Conv", ["input", "conv1.weight", "conv1.bias"], ["conv1_out"], name="conv1",
          kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        n("BatchNormalization",
          ["conv1_out", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"],
          ["bn1_out"], name="bn1", epsilon=1e-5, momentum=0.9),
        n("Relu", ["bn1_out"], ["relu1_out"], name="relu1"),
        n("Conv", ["relu1_out", "conv2.weight"], ["conv2_out"], name="conv2",
          kernel_shape=[3, 3], strides=[2, 2]),
        n("BatchNormalization",
          ["conv2_out", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var"],
          ["bn2_out"], name="bn2", epsilon=1e-5, momentum=0.9),
        n("Relu", ["bn2_out"], ["relu2_out"], name="relu2"),
        n("MaxPool", ["relu2_out"], ["pool_out"], name="pool", kernel_shape=[2, 2],
          strides=[2, 2]),
        n("Conv", ["pool_out", "conv3.weight", "conv3.bias"], ["conv3_out"], name="conv3",
          kernel_shape=[1, 1]),
        n("Sigmoid", ["conv3_out"], ["gate"], name="gate"),
        n("Mul", ["pool_out", "gate"], ["gated"], name="gate_mul"),
        n("Add", ["pool_out", "gated"], ["residual_out"], name="residual_add"),
        n("GlobalAveragePool", ["residual_out"], ["gap_out"], name="gap"),
        n("Flatten", ["gap_out"], ["flat"], name="flatten", axis=1),
        n("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc",
          alpha=1.0, beta=1.0, transB=1),
        n("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        inits,
        doc_string="A tiny CIFAR-sized CNN: two conv/bn/relu stages, a gated residual 1x1 "
        "conv, global average pooling and a 10-way classifier.",
    )
    m = _model(graph, [("", 13)], IR_OPSET13, doc_string="onnx-qat demo model")
    _meta(m.metadata_props, [("author", "onnx-qat"), ("license", "CC0-1.0"),
                             ("dataset", "random (fixture)")])
    return m


# --------------------------------------------------------------------------------------
# control_flow.onnx


def build_control_flow() -> onnx.ModelProto:
    rng = _rng(2)
    F = TensorProto.FLOAT
    vi = helper.make_tensor_value_info
    n = helper.make_node

    # If: both branches capture the outer value "scale" (an initializer) and "x".
    then_g = helper.make_graph(
        [n("Mul", ["x", "scale"], ["then_out"], name="then_mul")],
        "then_branch", [], [vi("then_out", F, [2, 3])])
    else_g = helper.make_graph(
        [n("Add", ["x", "scale"], ["else_out"], name="else_add")],
        "else_branch", [], [vi("else_out", F, [2, 3])])

    # Loop: acc <- acc + x * iter (captures outer "x"); also emits a scan output per iteration.
    body_loop = helper.make_graph(
        [
            n("Cast", ["iter"], ["iter_f"], name="loop_cast", to=F),
            n("Mul", ["x", "iter_f"], ["scaled"], name="loop_mul"),
            n("Add", ["acc_in", "scaled"], ["acc_out"], name="loop_add"),
            n("Identity", ["cond_in"], ["cond_out"], name="loop_cond"),
            n("ReduceSum", ["acc_out"], ["acc_sum"], name="loop_sum", keepdims=0),
        ],
        "loop_body",
        [vi("iter", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []),
         vi("acc_in", F, [2, 3])],
        [vi("cond_out", TensorProto.BOOL, []), vi("acc_out", F, [2, 3]),
         vi("acc_sum", F, [])],
    )

    # Scan: running sum over the rows of x.
    body_scan = helper.make_graph(
        [n("Add", ["state_in", "row"], ["state_out"], name="scan_add"),
         n("Identity", ["state_out"], ["row_out"], name="scan_copy")],
        "scan_body",
        [vi("state_in", F, [3]), vi("row", F, [3])],
        [vi("state_out", F, [3]), vi("row_out", F, [3])],
    )

    nodes = [
        n("If", ["cond"], ["if_out"], name="branch", then_branch=then_g, else_branch=else_g),
        n("Loop", ["trip_count", "", "acc_init"], ["loop_acc", "loop_sums"], name="loop",
          body=body_loop),
        n("Scan", ["state_init", "x"], ["scan_state", "scan_rows"], name="scan",
          body=body_scan, num_scan_inputs=1),
    ]
    graph = helper.make_graph(
        nodes,
        "control_flow",
        [vi("cond", TensorProto.BOOL, []), vi("x", F, [2, 3])],
        [vi("if_out", F, [2, 3]), vi("loop_acc", F, [2, 3]), vi("loop_sums", F, [4]),
         vi("scan_state", F, [3]), vi("scan_rows", F, [2, 3])],
        [
            _init("scale", _f32(rng.uniform(0.5, 2.0, size=(2, 3)))),
            _init("trip_count", np.array(4, dtype=np.int64)),
            _init("acc_init", np.zeros((2, 3), dtype=np.float32)),
            _init("state_init", np.zeros(3, dtype=np.float32)),
        ],
    )
    return _model(graph, [("", 13)], IR_OPSET13)


# --------------------------------------------------------------------------------------
# local_function.onnx


def build_local_function() -> onnx.ModelProto:
    F = TensorProto.FLOAT
    vi = helper.make_tensor_value_info
    n = helper.make_node

    # local.ScaledRelu(X; alpha) = Relu(X) * alpha, alpha taken via ref_attr_name.
    alpha_const = n("Constant", [], ["alpha_t"], name="alpha_const")
    alpha_const.attribute.append(helper.make_attribute_ref(
        "value_float", onnx.AttributeProto.FLOAT, ref_attr_name="alpha"))
    scaled_relu = helper.make_function(
        "local", "ScaledRelu", ["X"], ["Y"],
        [n("Relu", ["X"], ["r"], name="relu"), alpha_const,
         n("Mul", ["r", "alpha_t"], ["Y"], name="mul")],
        opset_imports=[helper.make_opsetid("", 13)],
        attributes=["alpha"],
        doc_string="Relu(X) * alpha",
    )
    # local.Block(X; gain) = ScaledRelu(X + 1; alpha = gain): a function calling a function
    # and forwarding its own attribute through ref_attr_name on the call.
    call = n("ScaledRelu", ["x1"], ["Y"], name="inner", domain="local")
    call.attribute.append(helper.make_attribute_ref(
        "alpha", onnx.AttributeProto.FLOAT, ref_attr_name="gain"))
    one = n("Constant", [], ["one"], name="one", value_float=1.0)
    block = helper.make_function(
        "local", "Block", ["X"], ["Y"],
        [one, n("Add", ["X", "one"], ["x1"], name="add"), call],
        opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("local", 1)],
        attributes=["gain"],
    )
    graph = helper.make_graph(
        [
            n("ScaledRelu", ["x"], ["h"], name="act", domain="local", alpha=0.5),
            n("Block", ["h"], ["y"], name="block", domain="local", gain=2.0),
        ],
        "local_function",
        [vi("x", F, [2, 4])],
        [vi("y", F, [2, 4])],
    )
    return _model(graph, [("", 13), ("local", 1)], IR_OPSET13,
                  functions=[scaled_relu, block])


# --------------------------------------------------------------------------------------
# all_dtypes.onnx

# Opset 25 (IR 13) is the first where Identity accepts uint2/int2/float8e8m0. The FLOAT6
# types (27, 28) are not accepted by Identity in any opset onnx 1.23 knows (only by Cast,
# QuantizeLinear, DequantizeLinear from opset 28), so those initializers are listed
# directly as graph outputs, which the checker accepts.
# onnxruntime (1.32) CANNOT load this model: it does not register the complex64/complex128
# and float6 types at all ("MLDataType ... is not currently registered or supported") and
# has no Identity kernel for the 4-bit/2-bit/float8e8m0 types.
ALL_DTYPES_OPSET = 25
ALL_DTYPES_IR = 13


def build_all_dtypes() -> onnx.ModelProto:
    rng = _rng(4)
    T = TensorProto
    vals8 = [0.0, 1.0, -1.5, 2.0, 0.25, -3.0, 448.0, -0.125]  # 448 = float8e4m3fn max
    small = [0.0, 1.0, -1.5, 2.0, 0.5, -3.0, 4.0, -0.5]
    ints = rng.integers(-100, 100, size=6)

    # (dtype, dims, values). Each becomes "<type>_typed" (the typed field make_tensor picks:
    # float_data, int32_data, int64_data, string_data, double_data or uint64_data) and,
    # except STRING, "<type>_raw" (raw_data, sub-byte types packed little end first).
    spec: list[tuple[int, list[int], object]] = [
        (T.FLOAT, [2, 3], _f32(rng.normal(size=(2, 3)))),
        (T.UINT8, [2, 3], np.array([0, 1, 127, 128, 254, 255], dtype=np.uint8)),
        (T.INT8, [2, 3], np.array([-128, -1, 0, 1, 64, 127], dtype=np.int8)),
        (T.UINT16, [2, 3], np.array([0, 1, 255, 256, 32768, 65535], dtype=np.uint16)),
        (T.INT16, [2, 3], np.array([-32768, -1, 0, 1, 300, 32767], dtype=np.int16)),
        (T.INT32, [2, 3], ints.astype(np.int32) * 1000003),
        (T.INT64, [2, 3], np.array([-(2**63), -1, 0, 1, 2**40, 2**63 - 1], dtype=np.int64)),
        (T.STRING, [3], np.array([b"", b"hello", "d\u00e9j\u00e0 vu".encode()], dtype=object)),
        (T.BOOL, [5], np.array([True, False, True, True, False])),
        (T.FLOAT16, [2, 3], np.array(small[:6], dtype=np.float16)),
        (T.DOUBLE, [2, 3], rng.normal(size=(2, 3))),
        (T.UINT32, [2, 3], np.array([0, 1, 65536, 2**31, 2**32 - 2, 2**32 - 1], dtype=np.uint32)),
        (T.UINT64, [2, 3], np.array([0, 1, 2**32, 2**63, 2**64 - 2, 2**64 - 1], dtype=np.uint64)),
        (T.COMPLEX64, [3], np.array([1 + 2j, -0.5j, 3.25], dtype=np.complex64)),
        (T.COMPLEX128, [3], np.array([1 + 2j, -0.5j, 3.25], dtype=np.complex128)),
        (T.BFLOAT16, [2, 3], small[:6]),
        (T.FLOAT8E4M3FN, [8], vals8),
        (T.FLOAT8E4M3FNUZ, [8], small),
        (T.FLOAT8E5M2, [8], vals8),
        (T.FLOAT8E5M2FNUZ, [8], small),
        (T.UINT4, [5], [0, 1, 7, 8, 15]),  # odd count: the last byte is half padding
        (T.INT4, [5], [-8, -1, 0, 1, 7]),
        (T.FLOAT4E2M1, [5], [0.0, 0.5, -1.0, 3.0, -6.0]),
        (T.FLOAT8E8M0, [4], [0.25, 1.0, 2.0, 1024.0]),  # powers of two only
        (T.UINT2, [7], [0, 1, 2, 3, 3, 2, 1]),  # 7 elements: 2 bytes, last one part padding
        (T.INT2, [7], [-2, -1, 0, 1, 1, 0, -2]),
        (T.FLOAT6E2M3, [5], [0.0, 0.5, -1.0, 3.0, -7.5]),  # 5 x 6 bits: 4 bytes
        (T.FLOAT6E3M2, [5], [0.0, 0.5, -1.0, 3.0, -28.0]),
    ]
    no_identity = {T.FLOAT6E2M3, T.FLOAT6E3M2}
    inits, nodes, outputs = [], [], []
    for dtype, dims, values in spec:
        tname = T.DataType.Name(dtype).lower()
        np_dtype = helper.tensor_dtype_to_np_dtype(dtype)
        arr = np.asarray(values).astype(np_dtype) if dtype != T.STRING else values
        variants = [("typed", False)] + ([] if dtype == T.STRING else [("raw", True)])
        for suffix, raw in variants:
            name = f"{tname}_{suffix}"
            t = helper.make_tensor(name, dtype, dims, arr if raw else values, raw=raw)
            t.doc_string = f"{T.DataType.Name(dtype)} stored in " + (
                "raw_data" if raw else helper.tensor_dtype_to_field(dtype))
            inits.append(t)
            if dtype in no_identity:
                outputs.append(helper.make_tensor_value_info(name, dtype, dims))
            else:
                nodes.append(helper.make_node("Identity", [name], [f"{name}_out"],
                                              name=f"id_{name}"))
                outputs.append(helper.make_tensor_value_info(f"{name}_out", dtype, dims))

    # Edge shapes: a scalar and an empty tensor.
    inits.append(helper.make_tensor("float_scalar", T.FLOAT, [], [3.5]))
    inits.append(helper.make_tensor("float_empty", T.FLOAT, [0, 3], []))
    for name, dims in (("float_scalar", []), ("float_empty", [0, 3])):
        nodes.append(helper.make_node("Identity", [name], [f"{name}_out"], name=f"id_{name}"))
        outputs.append(helper.make_tensor_value_info(f"{name}_out", T.FLOAT, dims))

    graph = helper.make_graph(nodes, "all_dtypes", [], outputs, inits,
                              doc_string="one initializer per TensorProto data type")
    return _model(graph, [("", ALL_DTYPES_OPSET)], ALL_DTYPES_IR)


# --------------------------------------------------------------------------------------
# sparse_and_metadata.onnx


def build_sparse_and_metadata() -> onnx.ModelProto:
    # Sparse initializers are exposed as graph outputs of sparse_tensor type rather than
    # consumed by MatMul/Add: onnxruntime densifies them and would run either way, but
    # check_model(full_check=True) rejects a sparse_tensor(float) input to any standard op.
    rng = _rng(5)
    F = TensorProto.FLOAT
    n = helper.make_node

    # Sparse [4, 3] with 4 non-zeros; indices as linearised positions (shape [NNZ]).
    w_vals = _init("w_sparse", _f32(rng.normal(size=4)))
    w_idx = _init("w_sparse_indices", np.array([0, 4, 7, 11], dtype=np.int64))
    w_sparse = helper.make_sparse_tensor(w_vals, w_idx, [4, 3])
    # Sparse [1, 3] with COO indices of shape [NNZ, rank].
    b_vals = _init("b_sparse", _f32([0.5, -0.25]))
    b_idx = _init("b_sparse_indices", np.array([[0, 0], [0, 2]], dtype=np.int64))
    b_sparse = helper.make_sparse_tensor(b_vals, b_idx, [1, 3])

    nodes = [
        n("MatMul", ["x", "w_dense"], ["mm"], name="matmul", doc_string="x times a weight"),
        n("Add", ["mm", "b_dense"], ["pre"], name="add_bias", doc_string="bias"),
        n("Relu", ["pre"], ["y"], name="relu", doc_string="activation"),
    ]
    x = helper.make_tensor_value_info("x", F, [2, 4], doc_string="the input")
    y = helper.make_tensor_value_info("y", F, [2, 3], doc_string="the output")
    outputs = [
        y,
        helper.make_sparse_tensor_value_info("w_sparse", F, [4, 3]),
        helper.make_sparse_tensor_value_info("b_sparse", F, [1, 3]),
    ]
    outputs[1].doc_string = "a sparse initializer passed through"
    inter = [
        helper.make_tensor_value_info("mm", F, [2, 3], doc_string="matmul result"),
        helper.make_tensor_value_info("pre", F, [2, 3], doc_string="pre-activation"),
    ]
    w_dense = _init("w_dense", _f32(rng.normal(size=(4, 3))))
    w_dense.doc_string = "a dense weight"
    graph = helper.make_graph(nodes, "sparse_and_metadata", [x], outputs,
                              initializer=[
                                  w_dense,
                                  _init("b_dense", _f32([0.1, 0.2, 0.3])),
                                  _init("y_scale", _f32(0.02)),
                                  _init("y_zero_point", np.array(0, dtype=np.uint8)),
                              ],
                              value_info=inter,
                              doc_string="graph with sparse initializers and metadata",
                              sparse_initializer=[w_sparse, b_sparse])
    qa = onnx.TensorAnnotation()
    qa.tensor_name = "y"
    _meta(qa.quant_parameter_tensor_names,
          [("SCALE_TENSOR", "y_scale"), ("ZERO_POINT_TENSOR", "y_zero_point")])
    graph.quantization_annotation.append(qa)

    m = _model(graph, [("", 13)], IR_OPSET13, doc_string="sparse and metadata fixture",
               domain="org.onnxqat.fixtures", model_version=7)
    _meta(m.metadata_props, [("key with spaces", "value"), ("empty", ""),
                             ("unicode", "\u00fcber \u2603")])
    return m


# --------------------------------------------------------------------------------------
# training_info.onnx


def build_training_info() -> onnx.ModelProto:
    rng = _rng(6)
    F = TensorProto.FLOAT
    vi = helper.make_tensor_value_info
    n = helper.make_node

    graph = helper.make_graph(
        [n("MatMul", ["x", "W"], ["xw"], name="matmul"),
         n("Add", ["xw", "B"], ["y"], name="add")],
        "inference",
        [vi("x", F, [1, 3])],
        [vi("y", F, [1, 2])],
        [_init("W", _f32(rng.normal(size=(3, 2)))), _init("B", _f32(np.zeros(2))),
         _init("lr", _f32(0.01))],
    )
    # Initialization: fresh random W and zero B.
    init_g = helper.make_graph(
        [n("RandomNormal", [], ["W_init"], name="w_init", shape=[3, 2], dtype=F, seed=1.0),
         n("ConstantOfShape", ["b_shape"], ["B_init"], name="b_init",
           value=helper.make_tensor("v", F, [1], [0.0]))],
        "initialization",
        [],
        [vi("W_init", F, [3, 2]), vi("B_init", F, [2])],
        [_init("b_shape", np.array([2], dtype=np.int64))],
    )
    # Algorithm: one weight-decay step (W <- W - lr * W) that reads the main graph's
    # initializers W, B and lr, plus a per-step counter.
    algo_g = helper.make_graph(
        [n("Mul", ["lr", "W"], ["dW"], name="decay"),
         n("Sub", ["W", "dW"], ["W_new"], name="step"),
         n("Identity", ["B"], ["B_new"], name="keep_b")],
        "algorithm",
        [],
        [vi("W_new", F, [3, 2]), vi("B_new", F, [2])],
    )
    ti = helper.make_training_info(
        algorithm=algo_g,
        algorithm_bindings=[("W", "W_new"), ("B", "B_new")],
        initialization=init_g,
        initialization_bindings=[("W", "W_init"), ("B", "B_init")],
    )
    m = _model(graph, [("", 13)], IR_OPSET13)
    m.training_info.append(ti)
    return m


# --------------------------------------------------------------------------------------
# newer_fields.onnx

# Fields onnx 1.23's onnx.proto has and onnx 1.12's lacks (a 1.12 parser sees them as
# unknown fields): NodeProto.overload (8), NodeProto.metadata_props (9),
# NodeProto.device_configurations (10), GraphProto.metadata_props (16),
# ValueInfoProto.metadata_props (4), TensorProto.metadata_props (16),
# FunctionProto.attribute_proto (11), .value_info (12), .overload (13),
# .metadata_props (14), ModelProto.configuration (26); also the IR-9+ data types.
# Opset 21 / IR 10 (overload needs IR >= 10); configuration needs IR 11, so IR 11 / opset 23.
NEWER_OPSET = 23
NEWER_IR = 11


def build_newer_fields() -> onnx.ModelProto:
    F = TensorProto.FLOAT
    vi = helper.make_tensor_value_info
    n = helper.make_node

    def fn(overload: str, scale_default: float) -> onnx.FunctionProto:
        c = n("Constant", [], ["s"], name="scale_const")
        c.attribute.append(helper.make_attribute_ref(
            "value_float", onnx.AttributeProto.FLOAT, ref_attr_name="scale"))
        f = helper.make_function(
            "local", "Scale", ["X"], ["Y"],
            [c, n("Mul", ["X", "s"], ["Y"], name="mul")],
            opset_imports=[helper.make_opsetid("", NEWER_OPSET)],
            attributes=[],
            attribute_protos=[helper.make_attribute("scale", scale_default)],
            doc_string=f"X * scale ({overload})",
        )
        f.overload = overload
        f.value_info.extend([vi("s", F, [])])
        _meta(f.metadata_props, [("function_meta", overload)])
        return f

    f_a, f_b = fn("v1", 2.0), fn("v2", 3.0)

    call_a = n("Scale", ["x"], ["h"], name="scale_v1", domain="local")
    call_a.overload = "v1"
    _meta(call_a.metadata_props, [("node_meta", "uses the default scale")])
    call_b = n("Scale", ["h"], ["h2"], name="scale_v2", domain="local", scale=0.5)
    call_b.overload = "v2"
    relu = n("Relu", ["h2"], ["y"], name="relu")
    _meta(relu.metadata_props, [("source", "fixture"), ("pass", "none")])
    dc = relu.device_configurations.add()
    dc.configuration_id = "single"
    ss = dc.sharding_spec.add()
    ss.tensor_name = "h2"
    ss.device.extend([0])
    dc.pipeline_stage = 0

    w = _init("bias", _f32([0.5, -0.5, 1.0, 0.0]))
    _meta(w.metadata_props, [("tensor_meta", "unused bias")])
    xv = vi("x", F, [2, 4])
    _meta(xv.metadata_props, [("value_meta", "input")])
    hv = vi("h", F, [2, 4])
    _meta(hv.metadata_props, [("value_meta", "intermediate")])
    graph = helper.make_graph([call_a, call_b, relu], "newer_fields", [xv],
                              [vi("y", F, [2, 4])], [w], value_info=[hv])
    _meta(graph.metadata_props, [("graph_meta", "yes")])

    m = _model(graph, [("", NEWER_OPSET), ("local", 1)], NEWER_IR, functions=[f_a, f_b])
    cfg = m.configuration.add()
    cfg.name = "single"
    cfg.num_devices = 1
    cfg.device.extend(["cpu:0"])
    _meta(m.metadata_props, [("model_meta", "newer fields")])
    return m


# --------------------------------------------------------------------------------------
# qdq_conv.onnx


def build_qdq_conv() -> onnx.ModelProto:
    rng = _rng(8)
    F = TensorProto.FLOAT
    vi = helper.make_tensor_value_info
    n = helper.make_node

    cout, cin = 4, 3
    w_float = _f32(rng.normal(0.0, 0.3, size=(cout, cin, 3, 3)))
    w_scale = _f32(np.abs(w_float).reshape(cout, -1).max(axis=1) / 127.0)
    w_q = np.clip(np.round(w_float / w_scale[:, None, None, None]), -127, 127).astype(np.int8)
    x_scale = np.float32(1.0 / 255.0)
    b_float = _f32(rng.normal(0.0, 0.1, size=cout))
    b_scale = _f32(x_scale * w_scale)
    b_q = np.round(b_float / b_scale).astype(np.int32)

    inits = [
        _init("x_scale", np.array(x_scale, dtype=np.float32)),
        _init("x_zero_point", np.array(0, dtype=np.uint8)),
        _init("w_quantized", w_q),
        _init("w_scale", w_scale),
        _init("w_zero_point", np.zeros(cout, dtype=np.int8)),
        _init("b_quantized", b_q),
        _init("b_scale", b_scale),
        _init("b_zero_point", np.zeros(cout, dtype=np.int32)),
        _init("y_scale", np.array(0.02, dtype=np.float32)),
        _init("y_zero_point", np.array(0, dtype=np.uint8)),
    ]
    nodes = [
        n("QuantizeLinear", ["x", "x_scale", "x_zero_point"], ["x_q"], name="x_quant"),
        n("DequantizeLinear", ["x_q", "x_scale", "x_zero_point"], ["x_dq"], name="x_dequant"),
        n("DequantizeLinear", ["w_quantized", "w_scale", "w_zero_point"], ["w_dq"],
          name="w_dequant", axis=0),
        n("DequantizeLinear", ["b_quantized", "b_scale", "b_zero_point"], ["b_dq"],
          name="b_dequant", axis=0),
        n("Conv", ["x_dq", "w_dq", "b_dq"], ["conv_out"], name="conv",
          kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        n("Relu", ["conv_out"], ["relu_out"], name="relu"),
        n("QuantizeLinear", ["relu_out", "y_scale", "y_zero_point"], ["y_q"], name="y_quant"),
        n("DequantizeLinear", ["y_q", "y_scale", "y_zero_point"], ["y"], name="y_dequant"),
    ]
    graph = helper.make_graph(nodes, "qdq_conv", [vi("x", F, [1, cin, 8, 8])],
                              [vi("y", F, [1, cout, 8, 8])], inits)
    return _model(graph, [("", 13)], IR_OPSET13)


# --------------------------------------------------------------------------------------
# external/model_external.onnx


def build_external() -> onnx.ModelProto:
    rng = _rng(9)
    F = TensorProto.FLOAT
    vi = helper.make_tensor_value_info
    n = helper.make_node
    graph = helper.make_graph(
        [n("MatMul", ["x", "W1"], ["h"], name="fc1"),
         n("Add", ["h", "B1"], ["h_b"], name="fc1_bias"),
         n("Relu", ["h_b"], ["h_r"], name="relu"),
         n("MatMul", ["h_r", "W2"], ["o"], name="fc2"),
         n("Add", ["o", "B2"], ["y"], name="fc2_bias")],
        "model_external",
        [vi("x", F, ["batch", 8])],
        [vi("y", F, ["batch", 4])],
        [_init("W1", _f32(rng.normal(0, 0.35, size=(8, 16)))),
         _init("B1", _f32(rng.normal(0, 0.1, size=16))),
         _init("W2", _f32(rng.normal(0, 0.25, size=(16, 4)))),
         _init("B2", _f32(rng.normal(0, 0.1, size=4))),
         _init("steps", np.array([1, 2, 3], dtype=np.int64))],  # unused; another dtype
    )
    return _model(graph, [("", 13)], IR_OPSET13)


# --------------------------------------------------------------------------------------

FIXTURES = [
    ("tiny_cnn.onnx", build_tiny_cnn),
    ("control_flow.onnx", build_control_flow),
    ("local_function.onnx", build_local_function),
    ("all_dtypes.onnx", build_all_dtypes),
    ("sparse_and_metadata.onnx", build_sparse_and_metadata),
    ("training_info.onnx", build_training_info),
    ("newer_fields.onnx", build_newer_fields),
    ("qdq_conv.onnx", build_qdq_conv),
]

# Fixtures onnxruntime cannot load, and why.
NO_ORT = {
    "all_dtypes.onnx": "complex64/complex128 and float6 types are not registered; "
                       "no Identity kernels for 4-bit/2-bit/float8e8m0",
}


def _try_ort(path: str) -> str:
    try:
        import onnxruntime as ort  # optional
    except ImportError:
        return "onnxruntime not installed"
    try:
        so = ort.SessionOptions()
        so.log_severity_level = 3
        ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        return "onnxruntime ok"
    except Exception as e:  # noqa: BLE001
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return f"onnxruntime cannot load: {first[:160]}"


def main(argv: list[str]) -> int:
    default_dir = os.path.dirname(os.path.abspath(__file__))
    out_dir = os.path.abspath(argv[1] if len(argv) > 1 else default_dir)
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name, build in FIXTURES:
        m = build()
        onnx.checker.check_model(m, full_check=True)
        path = os.path.join(out_dir, name)
        onnx.save_model(m, path)
        written.append((name, path, [path]))

    ext_dir = os.path.join(out_dir, "external")
    os.makedirs(ext_dir, exist_ok=True)
    m = build_external()
    onnx.checker.check_model(m, full_check=True)
    ext_path = os.path.join(ext_dir, "model_external.onnx")
    data_path = ext_path + ".data"
    if os.path.exists(data_path):
        os.remove(data_path)  # onnx appends to an existing data file
    onnx.save_model(m, ext_path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model_external.onnx.data", size_threshold=0)
    os.chmod(data_path, 0o644)  # onnx creates it owner-only
    onnx.checker.check_model(ext_path, full_check=True)
    written.append(("external/model_external.onnx", ext_path, [ext_path, data_path]))

    total = 0
    for name, path, files in written:
        size = sum(os.path.getsize(f) for f in files)
        total += size
        extra = f" (+ {os.path.basename(files[1])})" if len(files) > 1 else ""
        status = _try_ort(path)
        if name in NO_ORT:
            status += f" [expected: {NO_ORT[name]}]"
        print(f"{name}{extra}: {size} bytes; checker ok; {status}")
    print(f"total: {total} bytes in {len(written)} fixtures")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
