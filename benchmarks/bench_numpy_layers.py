"""The NumPy layers (notebook 02's conv and max pool, ``shared.layers_np``'s dense): forward plus
backward, vectorised, against the same layer written as plain loops and against TensorFlow
(the op and its gradients by GradientTape, compiled), float32, the same shapes. Each layer's
NumPy results are checked against the loops before anything is timed. Candidates take turns,
one call each per round; times are medians over rounds, ratios medians of per-round ratios.

    python benchmarks/bench_numpy_layers.py [--tiny] [--rounds 20]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from shared import layers_np, nbload  # noqa: E402


def conv_loops(x, w, dout, pad=1):
    """3x3 'same' convolution, stride 1: output, dx, dw, one output value at a time."""
    n, h, wd, _ = x.shape
    kh, kw, _, cout = w.shape
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    out, dxp, dw = np.zeros((n, h, wd, cout), x.dtype), np.zeros_like(xp), np.zeros_like(w)
    for b in range(n):
        for i in range(h):
            for j in range(wd):
                patch = xp[b, i:i + kh, j:j + kw, :]
                for o in range(cout):
                    out[b, i, j, o] = np.sum(patch * w[:, :, :, o])
                    dw[:, :, :, o] += patch * dout[b, i, j, o]
                    dxp[b, i:i + kh, j:j + kw, :] += w[:, :, :, o] * dout[b, i, j, o]
    return out, dxp[:, pad:pad + h, pad:pad + wd], dw


def maxpool_loops(x, dout):
    """2x2 max pool, stride 2: output and dx (the gradient goes to each window's maximum)."""
    n, h, w, c = x.shape
    out, dx = np.zeros((n, h // 2, w // 2, c), x.dtype), np.zeros_like(x)
    for b in range(n):
        for i in range(h // 2):
            for j in range(w // 2):
                for ch in range(c):
                    window = x[b, 2 * i:2 * i + 2, 2 * j:2 * j + 2, ch]
                    out[b, i, j, ch] = window.max()
                    k = np.argmax(window)
                    dx[b, 2 * i + k // 2, 2 * j + k % 2, ch] = dout[b, i, j, ch]
    return out, dx


def dense_loops(x, w, dout):
    """x @ w: output, dx, dw, one output value at a time."""
    out, dx, dw = np.zeros((x.shape[0], w.shape[1]), x.dtype), np.zeros_like(x), np.zeros_like(w)
    for b in range(x.shape[0]):
        for j in range(w.shape[1]):
            out[b, j] = x[b] @ w[:, j]
            dw[:, j] += x[b] * dout[b, j]
            dx[b] += w[:, j] * dout[b, j]
    return out, dx, dw


def candidates(tf, inputs, dout, forward, backward, loops, tf_op) -> dict:
    """loops / numpy / tf, each one forward + backward call, after checking NumPy's output and
    gradients against the loops'."""
    def numpy():
        out, cache = forward(*inputs)
        grads = backward(dout, cache)
        return (out, *grads) if isinstance(grads, tuple) else (out, grads)
    for mine, ref in zip(numpy(), loops(*inputs, dout)):
        if not np.allclose(mine, ref, rtol=1e-3, atol=1e-2):
            raise AssertionError(f"{forward.__name__}: NumPy and loops disagree")
    tensors, tf_dout = [tf.constant(v) for v in inputs], tf.constant(dout)

    @tf.function
    def tf_layer():
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            out = tf_op(*tensors)
        return tape.gradient(out, tensors, output_gradients=tf_dout)
    tf_layer()  # traced before it is timed
    return {"loops": common.wall_clock(lambda: loops(*inputs, dout)),
            "numpy": common.wall_clock(numpy),
            "tf": common.wall_clock(lambda: [g.numpy() for g in tf_layer()])}


def main(argv=None):
    a = common.arguments(argv, rounds=20)
    rounds = 1 if a.tiny else a.rounds
    from shared.runtime import import_tensorflow
    tf = import_tensorflow()
    nb02 = nbload.load("02_multichannel_cnn_digits.ipynb")
    rng = np.random.default_rng(0)
    normal = lambda *shape: rng.normal(size=shape).astype(np.float32)
    layers = []
    # (N, H, W, Cin, Cout): notebook 02's first layer (one 8x8 image), then a batch of 16
    for n, h, w, cin, cout in [(1, 8, 8, 1, 2)] + ([] if a.tiny else [(16, 16, 16, 8, 16)]):
        layers.append((f"conv 3x3 {(n, h, w, cin)}->{cout}", (normal(n, h, w, cin),
                       normal(3, 3, cin, cout)), normal(n, h, w, cout), nb02["conv_forward"],
                       nb02["conv_backward"], conv_loops,
                       lambda x, k: tf.nn.conv2d(x, k, 1, "SAME")))
        layers.append((f"max pool 2x2 {(n, h, w, cout)}", (normal(n, h, w, cout),),
                       normal(n, h // 2, w // 2, cout), nb02["maxpool_forward"],
                       nb02["maxpool_backward"], maxpool_loops,
                       lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID")))
    n, d, m = (32, 64, 32) if a.tiny else (128, 784, 256)
    layers.append((f"dense {(n, d)}x{(d, m)}", (normal(n, d), normal(d, m)), normal(n, m),
                   layers_np.dense_forward, layers_np.dense_backward, dense_loops, tf.matmul))
    rows, speedups, tf_gains = [], [], []
    for name, *spec in layers:
        rd = common.take_turns(candidates(tf, *spec), rounds)
        ms = lambda k: 1e3 * common.median_seconds(rd, k)
        speedup = common.speed_ratio(rd, "numpy", "loops")
        tf_gain = common.speed_ratio(rd, "tf", "numpy")
        rows.append([name, f"{ms('loops'):.2f}", f"{ms('numpy'):.3f}", f"{ms('tf'):.3f}",
                     f"{speedup:.0f}x", f"{tf_gain:.2f}x"])
        if "(1, 8, 8, " not in name:  # one 8x8 image is too little work for vectorised code
            speedups.append(speedup), tf_gains.append(tf_gain)
    met = min(speedups) >= 100 and max(tf_gains) <= 3
    body = (f"Forward + backward of one layer, float32, median ms per call over {rounds} rounds. "
            "Targets, beyond notebook 02's single 8x8 image: NumPy >= 100x the loops, TF <= 3x "
            "NumPy.\n\n" + common.table(["layer (shape)", "loops ms", "NumPy ms", "TF ms",
                                          "NumPy vs loops", "TF vs NumPy"], rows)
            + f"\n\nTargets {'met' if met else 'missed'}: NumPy at least {min(speedups):.0f}x as "
            f"fast as the loops, TF at most {max(tf_gains):.2f}x as fast as NumPy.")
    common.report("bench_numpy_layers", "NumPy layers vs loops vs TensorFlow", body, a.tiny)


if __name__ == "__main__":
    main()
