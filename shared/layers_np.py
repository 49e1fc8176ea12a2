"""NumPy layers used by more than one NumPy notebook, CS231n style.

Every layer is a pair ``<layer>_forward(x, ...) -> (out, cache)`` and
``<layer>_backward(dout, cache) -> (dx, ...)``, the backward written right under its forward.
Shapes: a batch of vectors is (N, D); images are NHWC (N, H, W, C).

Explained in notebook 01 (dense, activations, softmax cross-entropy, momentum, Adam);
reused in 02.
"""
from __future__ import annotations

import numpy as np


# ----------------------------------------------------------------------------- dense
def dense_forward(x, w, b=None):
    """x: (N, D), w: (D, M), b: (M,) or None -> out (N, M)."""
    out = x @ w
    if b is not None:
        out = out + b
    return out, (x, w, b is not None)


def dense_backward(dout, cache):
    """dout: (N, M) -> dx (N, D), dw (D, M), db (M,) or None."""
    x, w, has_bias = cache
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(axis=0) if has_bias else None
    return dx, dw, db


# ----------------------------------------------------------------------------- activations
def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, x):
    # the subgradient at exactly 0 is taken as 0
    return dout * (x > 0)


def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, out):
    return dout * (1 - out ** 2)


def arctan_forward(x):
    return np.arctan(x), x


def arctan_backward(dout, x):
    return dout / (1 + x ** 2)


def sigmoid_forward(x):
    # split by sign so that exp never overflows
    out = np.empty_like(x, dtype=np.result_type(x, np.float32))
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1 + ex)
    return out, out


def sigmoid_backward(dout, out):
    return dout * out * (1 - out)


ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "tanh": (tanh_forward, tanh_backward),
    "arctan": (arctan_forward, arctan_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
}


# ----------------------------------------------------------------------------- losses
def softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of integer labels ``y`` (N,) under softmax(logits (N, K)).

    Returns (loss, dlogits); the gradient of the mean is (softmax - onehot) / N.
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), y].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), y] -= 1
    return loss, dlogits / n


def l2_cost(pred, target):
    """0.5 * sum((pred - target)^2) / N, the articles' "L2 cost"; returns (loss, dpred)."""
    n = pred.shape[0]
    diff = pred - target
    return 0.5 * np.sum(diff ** 2) / n, diff / n


# ----------------------------------------------------------------------------- optimisers
def sgd_momentum_update(w, dw, state, lr, momentum=0.9):
    """Classical momentum: v = momentum * v - lr * dw; w += v. ``state`` is {} at first."""
    v = state.get("v", np.zeros_like(w))
    v = momentum * v - lr * dw
    return w + v, {"v": v}


def adam_update(w, dw, state, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam (Kingma & Ba 2015) with bias correction by (1 - beta^t)."""
    t = state.get("t", 0) + 1
    m = beta1 * state.get("m", np.zeros_like(w)) + (1 - beta1) * dw
    v = beta2 * state.get("v", np.zeros_like(w)) + (1 - beta2) * dw ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), {"t": t, "m": m, "v": v}
