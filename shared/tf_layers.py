"""Hand-written TensorFlow layers and optimisers used by more than one TF notebook.

Same contract as the NumPy layers: ``<layer>_forward(x, ...) -> (out, cache)`` and
``<layer>_backward(dout, cache) -> (dx, d<params>...)``, NHWC images, dtype following the input
(float32 to train, float64 for gradient checks). The convolution backward calls the kernels that
autodiff calls, so a hand-written step costs what an autodiff step costs; element-wise backward
passes and Adam's update are compiled with XLA (``jit_compile``), which fuses their several
passes over a big array into one while the code still reads as the formula.

Explained in: 03 (conv, batch norm; Nesterov SGD, label smoothing and fixed-statistics batch norm
for its done-right run), 04 (ELU, pooling, AMSGrad; plain-momentum SGD for the paper's recipe);
reused by 04's and 05's done-right runs and by 05's WRN (conv, batch norm, ReLU, Adam, SGD).
"""
from __future__ import annotations

import tensorflow as tf


# ----------------------------------------------------------------------------- convolution
def conv2d_forward(x, w, stride: int = 1, padding: str = "SAME"):
    """x: (N, H, W, Cin), w: (kh, kw, Cin, Cout) -> out (N, H', W', Cout). No bias."""
    out = tf.nn.conv2d(x, w, strides=stride, padding=padding)
    return out, (x, w, stride, padding)


def conv2d_backward(dout, cache):
    """dout: (N, H', W', Cout) -> dx (N, H, W, Cin), dw (kh, kw, Cin, Cout).

    dx is the transposed convolution of dout with w; dw correlates the input with dout.
    """
    x, w, stride, padding = cache
    strides = [1, stride, stride, 1]
    dx = tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(x), filter=w, out_backprop=dout,
                                        strides=strides, padding=padding)
    dw = tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=tf.shape(w), out_backprop=dout,
                                         strides=strides, padding=padding)
    return dx, dw


# ----------------------------------------------------------------------------- dense
def dense_forward(x, w):
    """x: (N, D), w: (D, M) -> out (N, M). No bias (the articles used none)."""
    return tf.matmul(x, w), (x, w)


def dense_backward(dout, cache):
    x, w = cache
    return tf.matmul(dout, w, transpose_b=True), tf.matmul(x, dout, transpose_a=True)


# ----------------------------------------------------------------------------- batch norm
def batchnorm_forward(x, gamma, beta, eps: float = 1e-3):
    """Training-mode batch norm over every axis but the last (channels / units).

    x: (N, ..., C); gamma: (C,) or None (no scale, as tf.contrib's default); beta: (C,) or None.
    Returns out, cache; also ``cache[-1]`` holds (mean, var) for updating running statistics.
    """
    axes = list(range(x.shape.rank - 1))
    mean, var = tf.nn.moments(x, axes=axes)
    inv_std = tf.math.rsqrt(var + eps)
    # out = gamma * (x - mean) * inv_std + beta, with the per-channel factors folded first so
    # that the big array is read and written twice rather than four times (Keras' form too)
    scale = inv_std if gamma is None else gamma * inv_std
    shift = -mean * scale if beta is None else beta - mean * scale
    return x * scale + shift, (x, inv_std, gamma, beta is not None, axes, (mean, var))


@tf.function(jit_compile=True)
def batchnorm_backward(dout, cache):
    """-> dx, dgamma (or None), dbeta (or None).

    The batch statistics depend on every example, so dx is not just dout * gamma * inv_std:
    dx = gamma * inv_std * (dout - mean(dout) - x_hat * mean(dout * x_hat)), means over the
    normalised axes, x_hat = (x - mean) * inv_std. Skipping the two mean terms is the tree-net
    article's mistake.
    """
    x, inv_std, gamma, has_beta, axes, (mean, _) = cache
    n = tf.cast(tf.size(dout) // tf.size(mean), dout.dtype)  # values per channel
    x_centered = x - mean
    sum_dout = tf.reduce_sum(dout, axis=axes)
    sum_dout_xhat = inv_std * tf.reduce_sum(dout * x_centered, axis=axes)
    scale = inv_std if gamma is None else gamma * inv_std
    # x_hat * mean(dout * x_hat) = x_centered * inv_std * sum_dout_xhat / n: the per-channel
    # factors are multiplied first, so the big arrays go through few element-wise passes, and
    # XLA fuses those that remain (x - mean is never stored as an array of its own)
    dx = scale * (dout - sum_dout / n) - x_centered * (scale * inv_std * sum_dout_xhat / n)
    return (dx, sum_dout_xhat if gamma is not None else None, sum_dout if has_beta else None)


def batchnorm_inference(x, mean, var, gamma, beta, eps: float = 1e-3):
    """Batch norm with fixed statistics (testing): a per-channel affine map, each example on its
    own. gamma, beta: (C,) or None, as in ``batchnorm_forward``."""
    scale = tf.math.rsqrt(var + eps) if gamma is None else gamma * tf.math.rsqrt(var + eps)
    shift = -mean * scale if beta is None else beta - mean * scale
    return x * scale + shift


# ----------------------------------------------------------------------------- activations
def relu_forward(x):
    return tf.nn.relu(x), x


@tf.function(jit_compile=True)
def relu_backward(dout, x):
    # a scalar zero: no array of zeros; XLA fuses the comparison into the selection, so the mask
    # is never written out as an array of booleans
    return tf.where(x > 0, dout, tf.constant(0, dout.dtype))


def elu_forward(x):
    out = tf.nn.elu(x)
    return out, out  # the backward needs the output only, so x can be freed after the forward


@tf.function(jit_compile=True)
def elu_backward(dout, out):
    # d/dx elu = 1 for x > 0, exp(x) = elu(x) + 1 otherwise; exp(x) <= 1 exactly when x <= 0, so
    # min(elu(x) + 1, 1) is the derivative on both sides, bit for bit. Plain TensorFlow would make
    # three passes over the arrays (add, min, multiply); XLA compiles them into one.
    return dout * tf.minimum(out + 1, 1)


# ----------------------------------------------------------------------------- pooling
def avgpool2x2_forward(x):
    """Mean over non-overlapping 2x2 windows: (N, H, W, C) -> (N, H/2, W/2, C), H and W even."""
    return tf.nn.avg_pool2d(x, 2, 2, "VALID"), tf.shape(x)


def avgpool2x2_backward(dout, x_shape):
    # each input pixel contributed 1/4 of its window's mean (H and W even): every value of
    # dout / 4 is copied to its 2x2 window in one broadcast (N, H/2, 2, W/2, 2, C) -> (N, H, W, C)
    quarter = (dout / 4)[:, :, None, :, None, :]
    n, h, w, c = tf.unstack(tf.shape(dout))
    return tf.reshape(tf.broadcast_to(quarter, [n, h, 2, w, 2, c]), x_shape)


def global_avgpool_forward(x):
    """(N, H, W, C) -> (N, C)."""
    return tf.reduce_mean(x, axis=[1, 2]), tf.shape(x)


def global_avgpool_backward(dout, x_shape):
    hw = tf.cast(x_shape[1] * x_shape[2], dout.dtype)
    return tf.broadcast_to(dout[:, None, None, :] / hw, x_shape)


# ----------------------------------------------------------------------------- loss
def softmax_cross_entropy(logits, labels, label_smoothing: float = 0.0):
    """Mean softmax cross-entropy of integer ``labels`` (N,); returns (loss, dlogits).

    dlogits = (softmax - target) / N: the 1/N belongs to the batch mean. The target is the one-hot
    label, or with ``label_smoothing`` e, (1 - e) * onehot + e / classes: the loss then stops
    rewarding ever larger logits for the right class (Szegedy et al. 2016).
    """
    n, classes = tf.shape(logits)[0], tf.shape(logits)[1]
    target = tf.one_hot(labels, classes, dtype=logits.dtype)
    if label_smoothing:
        target = (1 - label_smoothing) * target + label_smoothing / tf.cast(classes, logits.dtype)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(target, logits))
    dlogits = (tf.nn.softmax(logits) - target) / tf.cast(n, logits.dtype)
    return loss, dlogits


# ----------------------------------------------------------------------------- optimisers
class Adam:
    """Adam / AMSGrad written by hand over a list of ``tf.Variable``s.

    m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;  AMSGrad: v_max = max(v_max, v) element-wise
    (Reddi et al. 2018) and v_max replaces v in the step. Bias correction by (1 - b^t) (Kingma &
    Ba 2015), folded into the step size, with epsilon added to sqrt(v) after the folding — the
    same arithmetic as ``keras.optimizers.Adam(amsgrad=...)``, so both end at the same weights.
    """

    def __init__(self, variables, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False):
        self.variables = list(variables)
        self.lr, self.beta_1, self.beta_2, self.epsilon = learning_rate, beta_1, beta_2, epsilon
        self.amsgrad = amsgrad
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
        self.v = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]
        self.v_max = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables] \
            if amsgrad else [None] * len(self.variables)

    def state_variables(self):
        """Everything the next update depends on, for checkpoints: t, m, v (and v_max)."""
        return [self.step, *self.m, *self.v, *(self.v_max if self.amsgrad else [])]

    def apply(self, grads, learning_rate=None):
        """One update; ``learning_rate`` overrides the constant one (for schedules)."""
        self.step.assign_add(1)
        t = tf.cast(self.step, self.variables[0].dtype)
        lr = self.lr if learning_rate is None else learning_rate
        alpha = lr * tf.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        for var, g, m, v, v_max in zip(self.variables, grads, self.m, self.v, self.v_max):
            self.update(var, g, m, v, v_max, alpha, self.beta_1, self.beta_2, self.epsilon)

    @staticmethod
    @tf.function(jit_compile=True)
    def update(var, g, m, v, v_max, alpha, beta_1, beta_2, epsilon):
        # XLA turns these lines into one pass over the arrays instead of a dozen. m += (1 - b1) *
        # (g - m) is m = b1*m + (1-b1)*g rearranged to update in place, as Keras arranges it.
        m.assign_add((g - m) * (1 - beta_1))
        v.assign_add((tf.square(g) - v) * (1 - beta_2))
        second = v
        if v_max is not None:  # AMSGrad
            v_max.assign(tf.maximum(v_max, v))
            second = v_max
        var.assign_sub(m * alpha / (tf.sqrt(second) + epsilon))


class SGD:
    """SGD with momentum and weight decay, written by hand over ``tf.Variable``s.

    g = grad + weight_decay * w (only for the variables in ``decay``: weights, not BN offsets or
    scales); m = momentum * m + g; w -= lr * (g + momentum * m) with ``nesterov`` (the step looks
    one momentum step ahead, Sutskever et al. 2013), w -= lr * m without. With a constant
    learning rate these are the updates of ``keras.optimizers.SGD(momentum=..., nesterov=...)``.
    """

    def __init__(self, variables, momentum=0.9, weight_decay=0.0, decay=None, nesterov=True):
        self.variables = list(variables)
        self.momentum, self.weight_decay, self.nesterov = momentum, weight_decay, nesterov
        self.decay = [True] * len(self.variables) if decay is None else list(decay)
        if len(self.decay) != len(self.variables):
            raise ValueError(f"decay has {len(self.decay)} flags for {len(self.variables)} variables")
        self.m = [tf.Variable(tf.zeros_like(v), trainable=False) for v in self.variables]

    def state_variables(self):
        """Everything the next update depends on, for checkpoints."""
        return list(self.m)

    def apply(self, grads, learning_rate):
        lr = tf.convert_to_tensor(learning_rate, self.variables[0].dtype)
        for var, g, m, decay in zip(self.variables, grads, self.m, self.decay):
            wd = self.weight_decay if decay else 0.0
            self.update(var, g, m, lr, tf.constant(self.momentum, var.dtype), tf.constant(wd, var.dtype),
                        self.nesterov)

    @staticmethod
    @tf.function(jit_compile=True)
    def update(var, g, m, lr, momentum, weight_decay, nesterov):
        g = g + weight_decay * var
        m.assign(momentum * m + g)
        var.assign_sub(lr * (g + momentum * m if nesterov else m))
