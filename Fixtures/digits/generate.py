#!/usr/bin/env python3
"""Deterministic generator for the digits fixture: a small CNN trained on real data.

Usage: PYTHON Fixtures/digits/generate.py [OUT_DIR]     (default: the folder of this script)

Needs numpy, onnx (1.23.x) and scikit-learn (only for its bundled copy of the UCI handwritten
digits: 1797 grey 8x8 images, values 0..16; no download). The first 1437 images train, the
last 360 test (the digits are ordered by writer, so the test writers are unseen).

The network, trained here with plain numpy (im2col convolutions, hand-written backward pass,
Adam, random one-pixel shifts, fixed seed, single-threaded BLAS so that the sums come out the same on every run):

  input float[N,1,8,8] (pixels / 16)
  -> Conv(1->8, 3x3, pad 1, no bias) -> BatchNormalization -> Relu
  -> Conv(8->16, 3x3, stride 2, pad 1, no bias) -> BatchNormalization -> Relu
  -> Flatten -> Gemm(256->10, transB=1) -> logits float[N,10]

BatchNormalization trains on batch statistics; the exported mean and variance are the
population statistics of the training set under the final weights (layer by layer).

Writes (opset 13, ir_version 8, dynamic batch "N"):
  digits_cnn.onnx          the float model (passes onnx.checker full_check)
  calib/sample_000.npz ... 32 training images, one per file, key "input", shape [1,1,8,8]
  test.npz                 x float32[360,1,8,8], y int64[360]
The .npz files are written with fixed zip timestamps (numpy's savez stamps the current time),
so re-running the script reproduces every file byte for byte. Prints the float test accuracy.
"""

from __future__ import annotations

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import io  # noqa: E402
import zipfile  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

SEED = 20261127
TRAIN = 1437
CALIBRATION_SAMPLES = 32
EPOCHS = 40
BATCH = 32
LEARNING_RATE = 0.005
EPSILON = 1e-5


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits as sklearn_digits

    data = sklearn_digits()
    x = (data.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    return x, data.target.astype(np.int64)


def im2col(x: np.ndarray, k: int, stride: int, pad: int) -> tuple[np.ndarray, tuple[int, int]]:
    """[N,C,H,W] -> [N*Ho*Wo, C*k*k] (rows in N, Ho, Wo order; columns in C, kh, kw order)."""
    n, c, h, w = x.shape
    ho, wo = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c, k, k, ho, wo), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * ho * wo, c * k * k), (ho, wo)


def col2im(dcols: np.ndarray, shape: tuple, k: int, stride: int, pad: int, out: tuple[int, int]) -> np.ndarray:
    n, c, h, w = shape
    ho, wo = out
    d = dcols.reshape(n, ho, wo, c, k, k).transpose(0, 3, 4, 5, 1, 2)
    dxp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=dcols.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride] += d[:, :, i, j]
    return dxp[:, :, pad:pad + h, pad:pad + w]


class Conv:
    def __init__(self, rng: np.random.Generator, cin: int, cout: int, k: int, stride: int):
        self.k, self.stride, self.pad = k, stride, k // 2
        self.w = (rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))).astype(np.float32)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        self.cols, self.out = im2col(x, self.k, self.stride, self.pad)
        y = self.cols @ self.w.reshape(self.w.shape[0], -1).T
        return y.reshape(x.shape[0], *self.out, -1).transpose(0, 3, 1, 2)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        d = dy.transpose(0, 2, 3, 1).reshape(-1, self.w.shape[0])
        self.dw = (d.T @ self.cols).reshape(self.w.shape)
        dcols = d @ self.w.reshape(self.w.shape[0], -1)
        return col2im(dcols, self.shape, self.k, self.stride, self.pad, self.out)


class BatchNorm:
    def __init__(self, c: int):
        self.gamma = np.ones(c, np.float32)
        self.beta = np.zeros(c, np.float32)
        self.mean = np.zeros(c, np.float32)
        self.var = np.ones(c, np.float32)

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        if training:
            mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        else:
            mean, var = self.mean, self.var
        self.inv = (1.0 / np.sqrt(var + EPSILON)).astype(np.float32)
        self.xhat = (x - mean[None, :, None, None]) * self.inv[None, :, None, None]
        return self.gamma[None, :, None, None] * self.xhat + self.beta[None, :, None, None]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        self.dbeta = dy.sum(axis=(0, 2, 3))
        self.dgamma = (dy * self.xhat).sum(axis=(0, 2, 3))
        m = dy.shape[0] * dy.shape[2] * dy.shape[3]
        dxhat = dy * self.gamma[None, :, None, None]
        return (self.inv[None, :, None, None] / m) * (
            m * dxhat - dxhat.sum(axis=(0, 2, 3))[None, :, None, None]
            - self.xhat * (dxhat * self.xhat).sum(axis=(0, 2, 3))[None, :, None, None])


class Network:
    def __init__(self, rng: np.random.Generator):
        self.conv1, self.bn1 = Conv(rng, 1, 8, 3, 1), BatchNorm(8)
        self.conv2, self.bn2 = Conv(rng, 8, 16, 3, 2), BatchNorm(16)
        self.fc_w = (rng.standard_normal((10, 256)) * np.sqrt(1.0 / 256)).astype(np.float32)
        self.fc_b = np.zeros(10, np.float32)

    def parameters(self) -> list[tuple[object, str]]:
        return [(self.conv1, "w"), (self.bn1, "gamma"), (self.bn1, "beta"), (self.conv2, "w"), (self.bn2, "gamma"),
                (self.bn2, "beta"), (self, "fc_w"), (self, "fc_b")]

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        self.r1 = np.maximum(self.bn1.forward(self.conv1.forward(x), training), 0)
        self.r2 = np.maximum(self.bn2.forward(self.conv2.forward(self.r1), training), 0)
        self.flat = self.r2.reshape(x.shape[0], -1)
        return self.flat @ self.fc_w.T + self.fc_b

    def backward(self, dlogits: np.ndarray) -> None:
        self.dfc_w = dlogits.T @ self.flat
        self.dfc_b = dlogits.sum(axis=0)
        d = (dlogits @ self.fc_w).reshape(self.r2.shape) * (self.r2 > 0)
        d = self.conv2.backward(self.bn2.backward(d)) * (self.r1 > 0)
        self.conv1.backward(self.bn1.backward(d))

    def gradient(self, owner: object, name: str) -> np.ndarray:
        return getattr(owner, "d" + name)

    def set_population_statistics(self, x: np.ndarray) -> None:
        """Mean and (biased) variance of each BatchNormalization input over `x`, layer by layer."""
        c1 = self.conv1.forward(x)
        self.bn1.mean, self.bn1.var = c1.mean(axis=(0, 2, 3)), c1.var(axis=(0, 2, 3))
        r1 = np.maximum(self.bn1.forward(c1, training=False), 0)
        c2 = self.conv2.forward(r1)
        self.bn2.mean, self.bn2.var = c2.mean(axis=(0, 2, 3)), c2.var(axis=(0, 2, 3))


def shifted(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by -1, 0 or +1 pixel in each direction (zeros shifted in)."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.empty_like(x)
    for index, (dy, dx) in enumerate(rng.integers(0, 3, size=(len(x), 2))):
        out[index] = padded[index, :, dy:dy + 8, dx:dx + 8]
    return out


def train(x: np.ndarray, y: np.ndarray) -> Network:
    rng = np.random.default_rng(SEED)
    net = Network(rng)
    moments = {id_: (np.zeros_like(getattr(o, n)), np.zeros_like(getattr(o, n)))
               for id_, (o, n) in enumerate(net.parameters())}
    step = 0
    for epoch in range(EPOCHS):
        order = rng.permutation(len(x))
        rate = LEARNING_RATE * (0.5 * (1 + np.cos(np.pi * epoch / EPOCHS)))
        for start in range(0, len(x), BATCH):
            batch = order[start:start + BATCH]
            logits = net.forward(shifted(x[batch], rng), training=True)
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(batch)), y[batch]] -= 1
            net.backward((p / len(batch)).astype(np.float32))
            step += 1
            for id_, (owner, name) in enumerate(net.parameters()):
                g = net.gradient(owner, name)
                m, v = moments[id_]
                m[...] = 0.9 * m + 0.1 * g
                v[...] = 0.999 * v + 0.001 * g * g
                update = rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
                setattr(owner, name, (getattr(owner, name) - update).astype(np.float32))
    net.set_population_statistics(x)
    return net


def export(net: Network) -> onnx.ModelProto:
    def init(name: str, a: np.ndarray) -> TensorProto:
        return numpy_helper.from_array(np.ascontiguousarray(a, dtype=np.float32), name)

    inits = [init("conv1.weight", net.conv1.w), init("bn1.scale", net.bn1.gamma), init("bn1.bias", net.bn1.beta),
             init("bn1.mean", net.bn1.mean), init("bn1.var", net.bn1.var), init("conv2.weight", net.conv2.w),
             init("bn2.scale", net.bn2.gamma), init("bn2.bias", net.bn2.beta), init("bn2.mean", net.bn2.mean),
             init("bn2.var", net.bn2.var), init("fc.weight", net.fc_w), init("fc.bias", net.fc_b)]
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight"], ["conv1"], name="conv1", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["conv1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"], ["bn1"],
                         name="bn1", epsilon=EPSILON),
        helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"),
        helper.make_node("Conv", ["relu1", "conv2.weight"], ["conv2"], name="conv2", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["conv2", "bn2.scale", "bn2.bias", "bn2.mean", "bn2.var"], ["bn2"],
                         name="bn2", epsilon=EPSILON),
        helper.make_node("Relu", ["bn2"], ["relu2"], name="relu2"),
        helper.make_node("Flatten", ["relu2"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "digits_cnn", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="onnx-qat fixtures",
                              producer_version="1")
    model.ir_version = 8
    model.doc_string = "8x8 handwritten digits (scikit-learn load_digits), trained by Fixtures/digits/generate.py"
    onnx.checker.check_model(model, full_check=True)
    return model


def write_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    """An uncompressed .npz (what numpy.load reads) with fixed member timestamps."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue())


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(os.path.join(out, "calib"), exist_ok=True)
    x, y = load_digits()
    x_train, y_train, x_test, y_test = x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:]
    net = train(x_train, y_train)
    accuracy = float((net.forward(x_test, training=False).argmax(axis=1) == y_test).mean())
    train_accuracy = float((net.forward(x_train, training=False).argmax(axis=1) == y_train).mean())

    model = export(net)
    with open(os.path.join(out, "digits_cnn.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    for index in range(CALIBRATION_SAMPLES):
        write_npz(os.path.join(out, "calib", f"sample_{index:03d}.npz"), {"input": x_train[index:index + 1]})
    write_npz(os.path.join(out, "test.npz"), {"x": x_test, "y": y_test})

    try:
        import onnxruntime as ort

        session = ort.InferenceSession(os.path.join(out, "digits_cnn.onnx"), providers=["CPUExecutionProvider"])
        ort_accuracy = float((session.run(None, {"input": x_test})[0].argmax(axis=1) == y_test).mean())
        print(f"onnxruntime float test accuracy: {100 * ort_accuracy:.2f}%")
    except ImportError:
        pass
    print(f"float train accuracy: {100 * train_accuracy:.2f}%")
    print(f"float test accuracy: {100 * accuracy:.2f}% ({len(y_test)} images)")


if __name__ == "__main__":
    main()
