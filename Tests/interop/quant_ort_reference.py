"""Builds small quantized models, runs them in onnxruntime, and writes each case as
`<folder>/<case>/model.onnx`, `input_<i>.pb`, `output_<i>.pb` (TensorProto files) plus
`<folder>/index.json` listing the cases. QuantizationKernelTests runs the same models through
onnx-qat's executor and requires identical integer outputs.

Usage: quant_ort_reference.py FOLDER
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

IR_VERSION = 8
rng = np.random.default_rng(20261124)


def qrange(dtype):
    return (0, 255) if dtype == np.uint8 else (-128, 127)


def onnx_type(dtype):
    return {np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8, np.float32: TensorProto.FLOAT}[dtype]


def mid_zero_point(dtype):
    return np.array(rng.integers(100, 156) if dtype == np.uint8 else rng.integers(-28, 28), dtype=dtype)


def random_q(shape, dtype):
    low, high = qrange(dtype)
    return rng.integers(low, high + 1, size=shape).astype(dtype)


def random_weights(shape, dtype):
    """Weights; int8 ones in the 7-bit range [-64, 63] (onnxruntime's reduce_range): MLAS's AVX2
    u8s8 kernels add pairs of u8*s8 products with int16 saturation (vpmaddubsw), which full-range
    int8 weights can hit and which no other platform (VNNI, ARM, the reference) does."""
    if dtype == np.int8:
        return rng.integers(-64, 64, size=shape).astype(np.int8)
    return random_q(shape, dtype)


def model(nodes, inputs, outputs, initializers, ms=False):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=initializers)
    opsets = [helper.make_opsetid("", 21)]
    if ms:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    m = helper.make_model(graph, opset_imports=opsets)
    m.ir_version = IR_VERSION
    return m


def run_and_save(folder, name, m, feeds, cases, layer=False, pairs=False):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
    outputs = session.run(None, feeds)
    path = os.path.join(folder, name)
    os.makedirs(path, exist_ok=True)
    onnx.save(m, os.path.join(path, "model.onnx"))
    for i, graph_input in enumerate(m.graph.input):
        tensor = numpy_helper.from_array(feeds[graph_input.name], graph_input.name)
        with open(os.path.join(path, f"input_{i}.pb"), "wb") as f:
            f.write(tensor.SerializeToString())
    for i, (graph_output, value) in enumerate(zip(m.graph.output, outputs)):
        tensor = numpy_helper.from_array(value, graph_output.name)
        with open(os.path.join(path, f"output_{i}.pb"), "wb") as f:
            f.write(tensor.SerializeToString())
    cases.append({"name": name, "layer": layer, "pairs": pairs})


def output_scale(reference):
    """A y scale and zero point covering the float result (uint8), as a calibrator would."""
    low = min(float(reference.min()), 0.0)
    high = max(float(reference.max()), 0.0)
    scale = np.float32((high - low) / 255.0 or 1.0)
    return scale, np.uint8(np.clip(np.rint(-low / scale), 0, 255))


def qlinear_conv(folder, cases, name, x_dtype, w_dtype, y_dtype, shape, weight_shape, per_channel, group=1,
                 strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1), layer=False, auto_pad=None):
    x = random_q(shape, x_dtype)
    w = random_weights(weight_shape, w_dtype)
    if w_dtype == np.int8 and layer:
        w = np.clip(np.rint(rng.normal(0, 20, size=weight_shape)), -64, 63).astype(np.int8)
    m = weight_shape[0]
    x_scale = np.float32(rng.uniform(0.005, 0.05))
    x_zp = np.array(rng.integers(*qrange(x_dtype)) if x_dtype == np.uint8 else rng.integers(-20, 20), dtype=x_dtype)
    if per_channel:
        w_scale = rng.uniform(0.001, 0.02, size=m).astype(np.float32)
        w_zp = np.zeros(m, dtype=w_dtype) if w_dtype == np.int8 else random_q((m,), w_dtype)
    else:
        w_scale = np.float32(rng.uniform(0.001, 0.02))
        w_zp = np.array(0 if w_dtype == np.int8 else rng.integers(100, 156), dtype=w_dtype)
    bias = rng.integers(-5000, 5000, size=m).astype(np.int32)
    # Float reference to choose a y scale that uses the output range.
    xf = (x.astype(np.float32) - np.float32(x_zp)) * x_scale
    ws = np.reshape(w_scale, (-1,) + (1,) * (len(weight_shape) - 1)) if per_channel else w_scale
    wz = np.reshape(w_zp, (-1,) + (1,) * (len(weight_shape) - 1)) if per_channel else w_zp
    wf = (w.astype(np.float32) - wz.astype(np.float32)) * ws
    geometry = dict(group=group, strides=list(strides), dilations=list(dilations))
    if auto_pad:
        geometry["auto_pad"] = auto_pad
    else:
        geometry["pads"] = list(pads)
    conv = helper.make_node("Conv", ["x", "w"], ["y"], **geometry)
    fm = model([conv], [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [numpy_helper.from_array(wf, "w")])
    fs = ort.InferenceSession(fm.SerializeToString(), providers=["CPUExecutionProvider"])
    reference = fs.run(None, {"x": xf})[0]
    y_scale, y_zp = output_scale(reference * 1.1)
    if y_dtype == np.int8:
        y_zp = np.int8(int(y_zp) - 128)
    inits = [
        numpy_helper.from_array(np.array(x_scale, dtype=np.float32), "x_scale"),
        numpy_helper.from_array(np.array(x_zp, dtype=x_dtype), "x_zp"),
        numpy_helper.from_array(w, "w"),
        numpy_helper.from_array(np.array(w_scale, dtype=np.float32), "w_scale"),
        numpy_helper.from_array(np.array(w_zp, dtype=w_dtype), "w_zp"),
        numpy_helper.from_array(np.array(y_scale, dtype=np.float32), "y_scale"),
        numpy_helper.from_array(np.array(y_zp, dtype=y_dtype), "y_zp"),
        numpy_helper.from_array(bias, "B"),
    ]
    node = helper.make_node("QLinearConv", ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp", "B"],
                            ["y"], **geometry)
    qm = model([node], [helper.make_tensor_value_info("x", onnx_type(x_dtype), shape)],
               [helper.make_tensor_value_info("y", onnx_type(y_dtype), None)], inits)
    run_and_save(folder, name, qm, {"x": x}, cases, layer=layer)


def qlinear_matmul(folder, cases, name, a_dtype, b_dtype, y_dtype, a_shape, b_shape, per_column):
    a = random_q(a_shape, a_dtype)
    b = random_weights(b_shape, b_dtype)
    n = b_shape[-1]
    k = a_shape[-1]
    a_scale = np.float32(rng.uniform(0.005, 0.05))
    a_zp = mid_zero_point(a_dtype)
    if per_column:
        b_scale = rng.uniform(0.001, 0.02, size=n).astype(np.float32)
        b_zp = random_weights((n,), b_dtype) // 4
    else:
        b_scale = np.float32(rng.uniform(0.001, 0.02))
        b_zp = mid_zero_point(b_dtype)
    typical = float(a_scale) * float(np.mean(b_scale)) * 128 * 128 * np.sqrt(k) / 2
    y_scale = np.float32(typical * 4 / 255)
    y_zp = np.array(rng.integers(100, 156) if y_dtype == np.uint8 else rng.integers(-28, 28), dtype=y_dtype)
    inits = [
        numpy_helper.from_array(np.array(a_scale, dtype=np.float32), "a_scale"),
        numpy_helper.from_array(a_zp, "a_zp"),
        numpy_helper.from_array(b, "b"),
        numpy_helper.from_array(np.array(b_scale, dtype=np.float32), "b_scale"),
        numpy_helper.from_array(np.array(b_zp, dtype=b_dtype), "b_zp"),
        numpy_helper.from_array(np.array(y_scale, dtype=np.float32), "y_scale"),
        numpy_helper.from_array(y_zp, "y_zp"),
    ]
    node = helper.make_node("QLinearMatMul", ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "y_scale", "y_zp"], ["y"])
    qm = model([node], [helper.make_tensor_value_info("a", onnx_type(a_dtype), a_shape)],
               [helper.make_tensor_value_info("y", onnx_type(y_dtype), None)], inits)
    run_and_save(folder, name, qm, {"a": a}, cases)


def qlinear_binary(folder, cases, name, op, dtype, a_shape, b_shape):
    a = random_q(a_shape, dtype)
    b = random_q(b_shape, dtype)
    scales = rng.uniform(0.01, 0.1, size=3).astype(np.float32)
    scales[2] = (scales[0] + scales[1]) * 1.3 if op == "QLinearAdd" else scales[0] * scales[1] * 128 * 128 / 127
    zps = [mid_zero_point(dtype) for _ in range(3)]
    inits = [
        numpy_helper.from_array(np.array(scales[0]), "a_scale"), numpy_helper.from_array(zps[0], "a_zp"),
        numpy_helper.from_array(np.array(scales[1]), "b_scale"), numpy_helper.from_array(zps[1], "b_zp"),
        numpy_helper.from_array(np.array(scales[2]), "c_scale"), numpy_helper.from_array(zps[2], "c_zp"),
    ]
    node = helper.make_node(op, ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "c_scale", "c_zp"], ["c"],
                            domain="com.microsoft")
    qm = model([node], [helper.make_tensor_value_info("a", onnx_type(dtype), a_shape),
                        helper.make_tensor_value_info("b", onnx_type(dtype), b_shape)],
               [helper.make_tensor_value_info("c", onnx_type(dtype), None)], inits, ms=True)
    run_and_save(folder, name, qm, {"a": a, "b": b}, cases)


def quantize_dequantize(folder, cases, name, dtype, shape, axis):
    x = rng.normal(0, 3, size=shape).astype(np.float32)
    # Values exactly halfway between quantization steps, to check ties to even.
    x.flat[:8] = (np.arange(8) - 3.5).astype(np.float32) * np.float32(0.25)
    count = shape[axis]
    scale = rng.uniform(0.01, 0.1, size=count).astype(np.float32)
    scale[0] = 0.25
    zp = np.array([mid_zero_point(dtype) for _ in range(count)], dtype=dtype)
    inits = [numpy_helper.from_array(scale, "scale"), numpy_helper.from_array(zp, "zp")]
    q = helper.make_node("QuantizeLinear", ["x", "scale", "zp"], ["q"], axis=axis)
    dq = helper.make_node("DequantizeLinear", ["q", "scale", "zp"], ["y"], axis=axis)
    qm = model([q, dq], [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
               [helper.make_tensor_value_info("q", onnx_type(dtype), None),
                helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    run_and_save(folder, name, qm, {"x": x}, cases)


def scalar(value, dtype=np.float32):
    return np.array(value, dtype=dtype)


def ms_unary(folder, cases, name, op, dtype, shape, **attributes):
    x = random_q(shape, dtype)
    inits = [numpy_helper.from_array(scalar(rng.uniform(0.02, 0.1)), "x_scale"),
             numpy_helper.from_array(mid_zero_point(dtype), "x_zp"),
             numpy_helper.from_array(scalar(rng.uniform(0.002, 0.01) if op == "QLinearSigmoid" else 0.05), "y_scale"),
             numpy_helper.from_array(np.array(qrange(dtype)[0], dtype=dtype) if op == "QLinearSigmoid"
                                     else mid_zero_point(dtype), "y_zp")]
    node = helper.make_node(op, ["x", "x_scale", "x_zp", "y_scale", "y_zp"], ["y"], domain="com.microsoft", **attributes)
    qm = model([node], [helper.make_tensor_value_info("x", onnx_type(dtype), shape)],
               [helper.make_tensor_value_info("y", onnx_type(dtype), None)], inits, ms=True)
    run_and_save(folder, name, qm, {"x": x}, cases)


def ms_concat(folder, cases, name, dtype, shapes, axis):
    inputs, feeds = [], {}
    inits = [numpy_helper.from_array(scalar(0.05), "y_scale"), numpy_helper.from_array(mid_zero_point(dtype), "y_zp")]
    names = ["y_scale", "y_zp"]
    for i, shape in enumerate(shapes):
        feeds[f"x{i}"] = random_q(shape, dtype)
        inputs.append(helper.make_tensor_value_info(f"x{i}", onnx_type(dtype), shape))
        same = i == 0
        inits.append(numpy_helper.from_array(scalar(0.05 if same else rng.uniform(0.02, 0.08)), f"s{i}"))
        zero_point = numpy_helper.to_array(inits[1]) if same else mid_zero_point(dtype)
        inits.append(numpy_helper.from_array(zero_point, f"z{i}"))
        names += [f"x{i}", f"s{i}", f"z{i}"]
    node = helper.make_node("QLinearConcat", names, ["y"], domain="com.microsoft", axis=axis)
    qm = model([node], inputs, [helper.make_tensor_value_info("y", onnx_type(dtype), None)], inits, ms=True)
    run_and_save(folder, name, qm, feeds, cases)


def ms_pool(folder, cases, name, op, dtype, shape, **attributes):
    x = random_q(shape, dtype)
    inits = [numpy_helper.from_array(scalar(rng.uniform(0.02, 0.1)), "x_scale"),
             numpy_helper.from_array(mid_zero_point(dtype), "x_zp"),
             numpy_helper.from_array(scalar(rng.uniform(0.01, 0.05)), "y_scale"),
             numpy_helper.from_array(mid_zero_point(dtype), "y_zp")]
    node = helper.make_node(op, ["x", "x_scale", "x_zp", "y_scale", "y_zp"], ["y"], domain="com.microsoft", **attributes)
    qm = model([node], [helper.make_tensor_value_info("x", onnx_type(dtype), shape)],
               [helper.make_tensor_value_info("y", onnx_type(dtype), None)], inits, ms=True)
    run_and_save(folder, name, qm, {"x": x}, cases)


def ms_qgemm(folder, cases, name, a_dtype, b_dtype, m, k, n, quantized, per_column, trans_b, alpha=1.0):
    a = random_q((m, k), a_dtype)
    b = random_weights((n, k) if trans_b else (k, n), b_dtype)
    a_scale = scalar(rng.uniform(0.01, 0.05))
    b_scale = rng.uniform(0.002, 0.02, size=n).astype(np.float32) if per_column else scalar(rng.uniform(0.002, 0.02))
    b_zp = (np.zeros(n, dtype=b_dtype) if per_column else np.array(0, dtype=b_dtype)) if b_dtype == np.int8 else (
        np.array([mid_zero_point(b_dtype) for _ in range(n)], dtype=b_dtype) if per_column else mid_zero_point(b_dtype))
    c = rng.integers(-3000, 3000, size=(n,)).astype(np.int32)
    inits = [numpy_helper.from_array(a_scale, "a_scale"), numpy_helper.from_array(mid_zero_point(a_dtype), "a_zp"),
             numpy_helper.from_array(b, "b"), numpy_helper.from_array(b_scale, "b_scale"),
             numpy_helper.from_array(b_zp, "b_zp"), numpy_helper.from_array(c, "c")]
    names = ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "c"]
    out_type = TensorProto.FLOAT
    if quantized:
        typical = float(a_scale) * float(np.mean(b_scale)) * 128 * 64 * np.sqrt(k) / 2 * alpha
        inits += [numpy_helper.from_array(scalar(typical * 4 / 255), "y_scale"),
                  numpy_helper.from_array(mid_zero_point(a_dtype), "y_zp")]
        names += ["y_scale", "y_zp"]
        out_type = onnx_type(a_dtype)
    node = helper.make_node("QGemm", names, ["y"], domain="com.microsoft", transB=int(trans_b), alpha=alpha)
    qm = model([node], [helper.make_tensor_value_info("a", onnx_type(a_dtype), (m, k))],
               [helper.make_tensor_value_info("y", out_type, None)], inits, ms=True)
    run_and_save(folder, name, qm, {"a": a}, cases)


def ms_softmax(folder, cases, name, dtype, shape, opset, axis):
    x = random_q(shape, dtype)
    inits = [numpy_helper.from_array(scalar(rng.uniform(0.02, 0.1)), "x_scale"),
             numpy_helper.from_array(mid_zero_point(dtype), "x_zp"),
             numpy_helper.from_array(scalar(1.0 / 256), "y_scale"),
             numpy_helper.from_array(np.array(qrange(dtype)[0], dtype=dtype), "y_zp")]
    node = helper.make_node("QLinearSoftmax", ["x", "x_scale", "x_zp", "y_scale", "y_zp"], ["y"],
                            domain="com.microsoft", opset=opset, axis=axis)
    qm = model([node], [helper.make_tensor_value_info("x", onnx_type(dtype), shape)],
               [helper.make_tensor_value_info("y", onnx_type(dtype), None)], inits, ms=True)
    run_and_save(folder, name, qm, {"x": x}, cases)


def float8_reference(folder):
    """Float8 codes as onnx's reference implementation computes them (saturate_cast, then an
    ml_dtypes cast) for random values, ties, subnormals, overflow and specials: float8.json.
    (onnxruntime 1.32 differs from it with saturate=0 near the overflow threshold, e.g. e4m3fn
    482.7 -> 448 where ml_dtypes gives NaN, so the encoder is checked against onnx here.)"""
    import ml_dtypes

    values = np.concatenate([
        rng.normal(0, 200, 3000), rng.normal(0, 0.02, 1000), rng.normal(0, 30000, 500),
        np.arange(-64, 64) * 0.0625 + 0.03125,  # ties between e4m3 neighbours in [-4, 4)
        [448, 464, 470, 480, 500, 240, 248, 256, 57344, 61440, 65536, 1e30, -1e30, 0.0, -0.0,
         2.0 ** -10, 1.5 * 2.0 ** -9, 2.0 ** -17, 3 * 2.0 ** -17, np.inf, -np.inf, np.nan],
    ]).astype(np.float32)
    result = {"bits": values.view(np.uint32).tolist()}
    for name, dtype in [("float8e4m3fn", ml_dtypes.float8_e4m3fn), ("float8e4m3fnuz", ml_dtypes.float8_e4m3fnuz),
                        ("float8e5m2", ml_dtypes.float8_e5m2), ("float8e5m2fnuz", ml_dtypes.float8_e5m2fnuz)]:
        with np.errstate(all="ignore"):
            saturated = numpy_helper.saturate_cast(values, dtype).view(np.uint8)
            plain = values.astype(dtype).view(np.uint8)
        result[name] = {"saturate": saturated.tolist(), "plain": plain.tolist()}
    with open(os.path.join(folder, "float8.json"), "w") as f:
        json.dump(result, f)


def integer_ops(folder, cases):
    """DynamicQuantizeLinear, MatMulInteger (u8u8, per-column b zero point), ConvInteger (u8u8)."""
    x = rng.normal(0.3, 2.0, size=(4, 9)).astype(np.float32)
    node = helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "y_scale", "y_zp"])
    qm = model([node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
               [helper.make_tensor_value_info("y", TensorProto.UINT8, None),
                helper.make_tensor_value_info("y_scale", TensorProto.FLOAT, None),
                helper.make_tensor_value_info("y_zp", TensorProto.UINT8, None)], [])
    run_and_save(folder, "dynamicquantizelinear", qm, {"x": x}, cases)
    a = random_q((2, 5, 12), np.uint8)
    b = random_q((12, 7), np.uint8)
    inits = [numpy_helper.from_array(b, "b"), numpy_helper.from_array(mid_zero_point(np.uint8), "a_zp"),
             numpy_helper.from_array(np.array([mid_zero_point(np.uint8) for _ in range(7)], dtype=np.uint8), "b_zp")]
    node = helper.make_node("MatMulInteger", ["a", "b", "a_zp", "b_zp"], ["y"])
    qm = model([node], [helper.make_tensor_value_info("a", TensorProto.UINT8, a.shape)],
               [helper.make_tensor_value_info("y", TensorProto.INT32, None)], inits)
    run_and_save(folder, "matmulinteger_u8u8_column", qm, {"a": a}, cases)
    x = random_q((1, 4, 7, 6), np.uint8)
    w = random_q((4, 2, 3, 3), np.uint8)
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(mid_zero_point(np.uint8), "x_zp"),
             numpy_helper.from_array(mid_zero_point(np.uint8), "w_zp")]
    node = helper.make_node("ConvInteger", ["x", "w", "x_zp", "w_zp"], ["y"], group=2, pads=[1, 1, 0, 1], strides=[2, 1])
    qm = model([node], [helper.make_tensor_value_info("x", TensorProto.UINT8, x.shape)],
               [helper.make_tensor_value_info("y", TensorProto.INT32, None)], inits)
    run_and_save(folder, "convinteger_u8u8_group", qm, {"x": x}, cases)


def qdq_typed(folder, cases, name, q_type, shape, axis, block_size=0):
    """QuantizeLinear then DequantizeLinear to a 4- or 16-bit type, per axis or blocked."""
    x = rng.normal(0, 3, size=shape).astype(np.float32)
    if block_size:
        scale_shape = list(shape)
        scale_shape[axis] = (shape[axis] + block_size - 1) // block_size
    else:
        scale_shape = [shape[axis]]
    scale = rng.uniform(0.05, 0.5, size=scale_shape).astype(np.float32)
    low, high = {TensorProto.INT4: (-3, 3), TensorProto.UINT4: (6, 10), TensorProto.INT16: (-300, 300),
                 TensorProto.UINT16: (30000, 35000)}[q_type]
    zp = helper.make_tensor("zp", q_type, scale_shape, rng.integers(low, high, size=scale_shape).flatten().tolist())
    attributes = dict(axis=axis)
    if block_size:
        attributes["block_size"] = block_size
    q = helper.make_node("QuantizeLinear", ["x", "scale", "zp"], ["q"], **attributes)
    dq = helper.make_node("DequantizeLinear", ["q", "scale", "zp"], ["y"], **attributes)
    qm = model([q, dq], [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
               [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
               [numpy_helper.from_array(scale, "scale"), zp])
    run_and_save(folder, name, qm, {"x": x}, cases)


def full_range_u8s8(folder, cases):
    """QLinearMatMul u8 x s8 with full-range int8 weights: on AVX2 without VNNI, MLAS adds pairs
    of u8*s8 products (k = 2j, 2j+1) with int16 saturation (vpmaddubsw); the test explains every
    element either by exact arithmetic or by that saturation."""
    m, k, n = 8, 64, 16
    a = random_q((m, k), np.uint8)
    b = random_q((k, n), np.int8)
    inits = [numpy_helper.from_array(scalar(0.02), "a_scale"), numpy_helper.from_array(np.array(117, np.uint8), "a_zp"),
             numpy_helper.from_array(b, "b"), numpy_helper.from_array(scalar(0.01), "b_scale"),
             numpy_helper.from_array(np.array(0, np.int8), "b_zp"), numpy_helper.from_array(scalar(2.0), "y_scale"),
             numpy_helper.from_array(np.array(128, np.uint8), "y_zp")]
    node = helper.make_node("QLinearMatMul", ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "y_scale", "y_zp"], ["y"])
    qm = model([node], [helper.make_tensor_value_info("a", TensorProto.UINT8, (m, k))],
               [helper.make_tensor_value_info("y", TensorProto.UINT8, None)], inits)
    run_and_save(folder, "qlinearmatmul_u8s8_full_range", qm, {"a": a}, cases, pairs=True)


def main():
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    cases = []
    u8, s8 = np.uint8, np.int8
    qlinear_conv(folder, cases, "qlinearconv_u8u8_tensor", u8, u8, u8, (1, 4, 9, 9), (6, 4, 3, 3), False,
                 strides=(2, 2), pads=(1, 1, 1, 1))
    qlinear_conv(folder, cases, "qlinearconv_u8s8_channel_group", u8, s8, u8, (2, 6, 8, 7), (8, 3, 3, 3), True,
                 group=2, pads=(1, 0, 1, 2), dilations=(1, 2))
    qlinear_conv(folder, cases, "qlinearconv_s8s8_channel", s8, s8, s8, (1, 5, 7, 7), (7, 5, 3, 3), True,
                 strides=(1, 2), pads=(1, 1, 1, 1))
    qlinear_conv(folder, cases, "qlinearconv_u8u8_channel", u8, u8, u8, (1, 3, 6, 6), (5, 3, 2, 2), True)
    qlinear_conv(folder, cases, "qlinearconv_u8s8_depthwise", u8, s8, u8, (1, 8, 10, 10), (8, 1, 3, 3), True,
                 group=8, pads=(1, 1, 1, 1))
    qlinear_conv(folder, cases, "qlinearconv_u8s8_pointwise", u8, s8, u8, (1, 16, 5, 5), (24, 16, 1, 1), True)
    qlinear_conv(folder, cases, "qlinearconv_u8s8_1d", u8, s8, u8, (2, 4, 13), (5, 4, 3), True,
                 strides=(2,), pads=(1, 2), dilations=(2,))
    qlinear_conv(folder, cases, "qlinearconv_u8u8_3d", u8, u8, u8, (1, 2, 4, 5, 5), (3, 2, 2, 3, 2), False,
                 strides=(1, 2, 1), pads=(0, 1, 1, 1, 0, 0), dilations=(1, 1, 1))
    qlinear_conv(folder, cases, "qlinearconv_u8s8_same_upper", u8, s8, u8, (1, 3, 7, 8), (4, 3, 3, 2), True,
                 strides=(2, 3), auto_pad="SAME_UPPER")
    qlinear_conv(folder, cases, "qlinearconv_u8s8_same_lower", u8, s8, u8, (1, 3, 7, 8), (4, 3, 2, 3), True,
                 strides=(2, 2), auto_pad="SAME_LOWER")
    qlinear_conv(folder, cases, "layer_conv3x3_32x32", u8, s8, u8, (1, 32, 16, 16), (32, 32, 3, 3), True,
                 pads=(1, 1, 1, 1), layer=True)
    qlinear_matmul(folder, cases, "qlinearmatmul_u8u8_tensor", u8, u8, u8, (7, 33), (33, 19), False)
    qlinear_matmul(folder, cases, "qlinearmatmul_u8s8_column", u8, s8, u8, (2, 5, 40), (40, 17), True)
    qlinear_matmul(folder, cases, "qlinearmatmul_s8s8_batched", s8, s8, s8, (3, 4, 21), (3, 21, 9), False)
    qlinear_binary(folder, cases, "qlinearadd_u8", "QLinearAdd", u8, (3, 37), (3, 37))
    qlinear_binary(folder, cases, "qlinearadd_s8_broadcast", "QLinearAdd", s8, (4, 3, 11), (3, 1))
    qlinear_binary(folder, cases, "qlinearadd_u8_scalar", "QLinearAdd", u8, (5, 13), (1,))
    qlinear_binary(folder, cases, "qlinearmul_u8", "QLinearMul", u8, (3, 37), (3, 37))
    qlinear_binary(folder, cases, "qlinearmul_s8_broadcast", "QLinearMul", s8, (4, 3, 11), (3, 1))
    quantize_dequantize(folder, cases, "qdq_u8_axis1", u8, (4, 6, 5), 1)
    quantize_dequantize(folder, cases, "qdq_s8_axis0", s8, (7, 9), 0)
    ms_unary(folder, cases, "qlinearsigmoid_u8", "QLinearSigmoid", u8, (4, 70))
    ms_unary(folder, cases, "qlinearsigmoid_s8", "QLinearSigmoid", s8, (3, 90))
    ms_unary(folder, cases, "qlinearleakyrelu_u8", "QLinearLeakyRelu", u8, (2, 100), alpha=0.1)
    ms_unary(folder, cases, "qlinearleakyrelu_s8", "QLinearLeakyRelu", s8, (2, 100), alpha=0.2)
    ms_concat(folder, cases, "qlinearconcat_u8", u8, [(2, 3, 4), (2, 5, 4), (2, 1, 4)], 1)
    ms_concat(folder, cases, "qlinearconcat_s8", s8, [(3, 4), (3, 6)], -1)
    ms_pool(folder, cases, "qlinearglobalaveragepool_u8", "QLinearGlobalAveragePool", u8, (2, 5, 6, 7))
    ms_pool(folder, cases, "qlinearglobalaveragepool_s8_nhwc", "QLinearGlobalAveragePool", s8, (2, 4, 5, 6),
            channels_last=1)
    ms_pool(folder, cases, "qlinearaveragepool_u8_pads", "QLinearAveragePool", u8, (1, 3, 9, 8),
            kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    ms_pool(folder, cases, "qlinearaveragepool_u8_include_pad_ceil", "QLinearAveragePool", u8, (1, 2, 9, 8),
            kernel_shape=[3, 2], strides=[2, 2], pads=[1, 0, 1, 1], count_include_pad=1, ceil_mode=1)
    ms_pool(folder, cases, "qlinearaveragepool_s8_nhwc", "QLinearAveragePool", s8, (1, 7, 6, 5),
            kernel_shape=[2, 2], strides=[1, 1], channels_last=1)
    ms_pool(folder, cases, "qlinearaveragepool_s8_1d", "QLinearAveragePool", s8, (2, 3, 11),
            kernel_shape=[4], strides=[3], pads=[2, 1])
    ms_pool(folder, cases, "qlinearaveragepool_u8_global_window", "QLinearAveragePool", u8, (1, 3, 4, 4),
            kernel_shape=[4, 4])
    ms_qgemm(folder, cases, "qgemm_u8s8_quantized_column", u8, s8, 6, 30, 11, True, True, False)
    ms_qgemm(folder, cases, "qgemm_u8u8_quantized_transb", u8, u8, 5, 24, 9, True, False, True, alpha=0.5)
    ms_qgemm(folder, cases, "qgemm_s8s8_float_output", s8, s8, 4, 20, 7, False, True, True)
    ms_softmax(folder, cases, "qlinearsoftmax_u8_last", u8, (3, 4, 10), 13, -1)
    ms_softmax(folder, cases, "qlinearsoftmax_s8_axis1", s8, (2, 6, 5), 13, 1)
    ms_softmax(folder, cases, "qlinearsoftmax_u8_opset12", u8, (2, 3, 4), 12, 1)
    integer_ops(folder, cases)
    full_range_u8s8(folder, cases)
    qdq_typed(folder, cases, "qdq_int4_blocked", TensorProto.INT4, (4, 10), 1, block_size=4)
    qdq_typed(folder, cases, "qdq_uint4_axis0", TensorProto.UINT4, (6, 5), 0)
    qdq_typed(folder, cases, "qdq_int16_axis1", TensorProto.INT16, (3, 7, 2), 1)
    qdq_typed(folder, cases, "qdq_uint16_blocked", TensorProto.UINT16, (8, 3), 0, block_size=3)
    float8_reference(folder)
    with open(os.path.join(folder, "index.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print(f"wrote {len(cases)} cases to {folder}")


if __name__ == "__main__":
    main()
